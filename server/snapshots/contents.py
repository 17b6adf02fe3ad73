"""The per-host records of a snapshot, read from the database for one unit's subtree.

A record is the check sheet of one computer (domain.md): identity and asset fields, status,
the policy its results were evaluated against, every per-rule result as the dashboard shows
it (LatestFinding), required-software install/run state, USB and internet evidence from its
newest full report, its rectifications that are not closed, and the reports it rests on:

    results   the full report the per-rule results came from (LatestFinding.report)
    confirms  the newest later heartbeat naming the same state hash, if any: "still so then"

Hosts are found with `dashboard.access.subtree_q`, the prefix match every scoped page uses;
a caller acting for a user must first check the unit is visible to that user.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agent.protocol.envelope import decode_envelope, format_time
from agent.protocol.errors import ProtocolError
from server.accounts.models import Unit
from server.dashboard.access import subtree_q
from server.fleet.models import Host, LatestFinding, Policy, Report, ReportKind
from server.fleet.policies import effective_policy
from server.rectification.models import NOT_CLOSED, Rectification
from server.snapshots import signed

HOSTS_PER_BATCH = 500


@dataclass(frozen=True)
class HostEvidence:
    """One host's record and the stored envelopes (seq, bytes) it names."""

    record: dict[str, Any]
    envelopes: list[tuple[int, bytes]]


def _time(moment: dt.datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def hosts_of(unit: Unit) -> Any:
    """The hosts of `unit`'s subtree, in a stable order (unit path, then host id)."""
    return (
        Host.objects.filter(subtree_q(unit))
        .select_related("unit")
        .order_by("unit__path", "host_id")
    )


def _result(row: LatestFinding) -> dict[str, Any]:
    return {
        "rule": row.rule,
        "category": row.category,
        "severity": row.severity,
        "status": row.status,
        "title": {"zh": row.title_zh, "en": row.title_en},
        "message": {"zh": row.message_zh, "en": row.message_en},
        "remedy": {"zh": row.remedy_zh, "en": row.remedy_en},
        "installed": row.installed,
        "running": row.running,
        "since": _time(row.since),
    }


def _results_report(host: Host, rows: list[LatestFinding]) -> Report | None:
    """The full report the host's current results came from.

    Every full report that ingest applies rewrites all of a host's LatestFinding rows, so
    they name one report; a host whose policy has no rules has no rows, and its newest full
    report is taken instead.
    """
    reports = Report.objects.filter(host=host, kind=ReportKind.FULL)
    if rows:
        reports = reports.filter(pk__in={row.report_id for row in rows})
    return reports.order_by("-seq").first()


def _confirming_heartbeat(host: Host, full: Report) -> Report | None:
    return (
        Report.objects.filter(
            host=host, kind=ReportKind.HEARTBEAT, seq__gt=full.seq, state_hash=full.state_hash
        )
        .order_by("-seq")
        .first()
    )


def _inventory(full: Report | None) -> dict[str, Any]:
    if full is None:
        return signed.inventory({})
    body = bytes(full.envelope)
    try:
        return signed.inventory(signed.payload_of(decode_envelope(body, max_bytes=len(body))))
    except ProtocolError:  # stored reports were accepted; an unreadable one shows as empty
        return signed.inventory({})


def _rectification(row: Rectification, today: dt.date) -> dict[str, Any]:
    return {
        "id": row.pk,
        "rule": row.rule,
        "status": row.status,
        "title": {"zh": row.title_zh, "en": row.title_en},
        "responsible_person": row.responsible_person,
        "deadline": row.deadline.isoformat(),
        "overdue": row.is_overdue(today),
        "issued_at": _time(row.issued_at),
    }


def _policy_json(policy: Policy | None) -> dict[str, str] | None:
    if policy is None:
        return None
    return {"id": policy.policy_id, "version": policy.version, "sha256": policy.sha256}


class _Assigned:
    """Each unit's effective policy, looked up once per unit rather than once per host."""

    def __init__(self) -> None:
        self._by_unit: dict[int, dict[str, str] | None] = {}

    def __call__(self, unit: Unit) -> dict[str, str] | None:
        if unit.pk not in self._by_unit:
            self._by_unit[unit.pk] = _policy_json(effective_policy(unit))
        return self._by_unit[unit.pk]


def host_evidence(host: Host, today: dt.date, assigned: _Assigned | None = None) -> HostEvidence:
    rows = list(LatestFinding.objects.filter(host=host).order_by("rule"))
    full = _results_report(host, rows)
    heartbeat = _confirming_heartbeat(host, full) if full is not None else None
    reports = [(full, "results"), (heartbeat, "confirms")]
    rests_on = [
        {"host_id": host.host_id, "seq": report.seq, "kind": report.kind, "role": role}
        for report, role in reports
        if report is not None
    ]
    results = [_result(row) for row in rows]
    rectifications = Rectification.objects.filter(host=host, status__in=NOT_CLOSED).order_by(
        "deadline", "pk"
    )
    record: dict[str, Any] = {
        "host_id": host.host_id,
        "public_key": base64.b64encode(bytes(host.public_key)).decode("ascii"),
        "unit": host.unit.path,
        **{name: getattr(host, name) for name in signed.IDENTITY_FIELDS},
        "status": host.status,
        "first_seen": _time(host.first_seen),
        "last_seen": _time(host.last_seen),
        "clone_suspected": host.clone_suspected_at is not None,
        "compliant": host.compliant,
        "policy": (
            {"id": full.policy_id, "version": full.policy_version, "sha256": full.policy_sha256}
            if full is not None
            else None
        ),
        "assigned_policy": (assigned or _Assigned())(host.unit),
        "results": results,
        "required_software": [
            {
                "rule": item["rule"],
                "title": item["title"],
                "installed": item["installed"],
                "running": item["running"],
            }
            for item in results
            if item["installed"] is not None
        ],
        **_inventory(full),
        "rectifications": [_rectification(row, today) for row in rectifications],
        "rests_on": rests_on,
    }
    envelopes = [(report.seq, bytes(report.envelope)) for report, _ in reports if report]
    return HostEvidence(record, envelopes)


def subtree_evidence(unit: Unit, today: dt.date) -> Iterator[HostEvidence]:
    """Every host of the subtree, one at a time (reports are read per host, not all at once)."""
    assigned = _Assigned()
    for host in hosts_of(unit).iterator(chunk_size=HOSTS_PER_BATCH):
        yield host_evidence(host, today, assigned)

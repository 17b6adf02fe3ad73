"""The per-host records of a snapshot, read from the database for one unit's subtree.

A record is the check sheet of one computer (domain.md): identity and asset fields, status,
its compliance state, the policy its results were evaluated against, every per-rule result as
the dashboard shows it (LatestFinding), required-software install/run state, USB and internet
evidence from its newest full report, its rectifications that are not closed, and the
reports it rests on:

    results   the full report the per-rule results came from (LatestFinding.report)
    confirms  the newest later heartbeat naming the same state hash, if any: "still so then"

The state is `signed.state` over the per-rule statuses (compliant / noncompliant / unchecked),
or "unknown" for a host without a full report, derived here rather than read from the host
row so that `verify` can recompute it from the signed findings with the same function.

Hosts are read in batches of HOSTS_PER_BATCH with a fixed number of queries per batch (hosts,
findings, full reports with their confirming heartbeat, heartbeat envelopes,
rectifications), as value tuples rather than model instances, and handed out one at a time:
memory holds one batch, whatever the size of the subtree.

Hosts are found with `dashboard.access.subtree_q`, the prefix match every scoped page uses;
a caller acting for a user must first check the unit is visible to that user.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Subquery

from agent.protocol.envelope import decode_envelope, format_time
from agent.protocol.errors import ProtocolError
from server.accounts.models import Unit
from server.dashboard.access import subtree_q
from server.fleet.models import Host, LatestFinding, Policy, Report, ReportKind
from server.fleet.policies import effective_policy
from server.rectification.models import NOT_CLOSED, Rectification
from server.snapshots import signed

HOSTS_PER_BATCH = 500

_HOST_FIELDS = (
    "pk",
    "host_id",
    "public_key",
    "unit_id",
    "unit__path",
    *signed.IDENTITY_FIELDS,
    "status",
    "first_seen",
    "last_seen",
    "clone_suspected_at",
)
_FINDING_FIELDS = (
    "host_id",
    "rule",
    "category",
    "severity",
    "status",
    "title_zh",
    "title_en",
    "message_zh",
    "message_en",
    "remedy_zh",
    "remedy_en",
    "installed",
    "running",
    "since",
    "report_id",
)
_REPORT_FIELDS = (
    "pk",
    "host_id",
    "seq",
    "policy_id",
    "policy_version",
    "policy_sha256",
    "envelope",
    "confirmed_by",
)
_NOTICE_FIELDS = (
    "host_id",
    "pk",
    "rule",
    "status",
    "title_zh",
    "title_en",
    "responsible_person",
    "deadline",
    "issued_at",
)


@dataclass(frozen=True)
class HostEvidence:
    """One host's record and the stored envelopes (seq, bytes) it names, in `rests_on` order."""

    record: dict[str, Any]
    envelopes: list[tuple[int, bytes]]


def _time(moment: dt.datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def hosts_of(unit: Unit) -> Any:
    """The hosts of `unit`'s subtree, in a stable order (unit path, then host id)."""
    return Host.objects.filter(subtree_q(unit)).order_by("unit__path", "host_id")


def _policy_json(policy: Policy | None) -> dict[str, str] | None:
    if policy is None:
        return None
    return {"id": policy.policy_id, "version": policy.version, "sha256": policy.sha256}


class _Assigned:
    """Each unit's effective policy, looked up once per unit rather than once per host."""

    def __init__(self) -> None:
        self._by_unit: dict[int, dict[str, str] | None] = {}

    def __call__(self, unit_id: int) -> dict[str, str] | None:
        if unit_id not in self._by_unit:
            self._by_unit[unit_id] = _policy_json(effective_policy(Unit.objects.get(pk=unit_id)))
        return self._by_unit[unit_id]


def _result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule": row["rule"],
        "category": row["category"],
        "severity": row["severity"],
        "status": row["status"],
        "title": {"zh": row["title_zh"], "en": row["title_en"]},
        "message": {"zh": row["message_zh"], "en": row["message_en"]},
        "remedy": {"zh": row["remedy_zh"], "en": row["remedy_en"]},
        "installed": row["installed"],
        "running": row["running"],
        "since": _time(row["since"]),
    }


def _rectification(row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    return {
        "id": row["pk"],
        "rule": row["rule"],
        "status": row["status"],
        "title": {"zh": row["title_zh"], "en": row["title_en"]},
        "responsible_person": row["responsible_person"],
        "deadline": row["deadline"].isoformat(),
        "overdue": row["deadline"] < today,  # none of these is closed
        "issued_at": _time(row["issued_at"]),
    }


def _inventory(envelope: bytes | None) -> dict[str, Any]:
    if envelope is None:
        return signed.inventory({})
    try:
        payload = signed.payload_of(decode_envelope(envelope, max_bytes=len(envelope)))
    except ProtocolError:  # stored reports were accepted; an unreadable one shows as empty
        return signed.inventory({})
    return signed.inventory(payload)


def _grouped(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["host_id"]].append(row)
    return groups


class _Batch:
    """The rows of one batch of hosts, read with a fixed number of queries."""

    def __init__(self, hosts: list[dict[str, Any]]) -> None:
        pks = [host["pk"] for host in hosts]
        self.findings = _grouped(
            LatestFinding.objects.filter(host_id__in=pks).values(*_FINDING_FIELDS)
        )
        self.fulls = self._full_reports(pks)
        confirming = [row["confirmed_by"] for row in self.fulls.values() if row["confirmed_by"]]
        self.heartbeats = {
            row["pk"]: row
            for row in Report.objects.filter(pk__in=confirming).values("pk", "seq", "envelope")
        }
        self.notices = _grouped(
            Rectification.objects.filter(host_id__in=pks, status__in=NOT_CLOSED)
            .order_by("deadline", "pk")
            .values(*_NOTICE_FIELDS)
        )

    def _full_reports(self, pks: list[int]) -> dict[int, dict[str, Any]]:
        """Per host, the full report its results came from.

        Every full report that ingest applies rewrites all of a host's LatestFinding rows, so
        they name one report (the newest named, should they ever not); a host whose policy
        has no rules has no rows, and its newest full report is taken instead.
        """
        named = {row["report_id"] for rows in self.findings.values() for row in rows}
        without = [pk for pk in pks if pk not in self.findings]
        if without:
            newest = Report.objects.filter(host_id=OuterRef("pk"), kind=ReportKind.FULL)
            named.update(
                pk
                for pk in Host.objects.filter(pk__in=without)
                .annotate(full=Subquery(newest.order_by("-seq").values("pk")[:1]))
                .values_list("full", flat=True)
                if pk is not None
            )
        confirming = Report.objects.filter(
            host_id=OuterRef("host_id"),
            kind=ReportKind.HEARTBEAT,
            seq__gt=OuterRef("seq"),
            state_hash=OuterRef("state_hash"),
        ).order_by("-seq")
        fulls: dict[int, dict[str, Any]] = {}
        for row in (
            Report.objects.filter(pk__in=named, kind=ReportKind.FULL)
            .annotate(confirmed_by=Subquery(confirming.values("pk")[:1]))
            .values(*_REPORT_FIELDS)
        ):
            if row["host_id"] not in fulls or row["seq"] > fulls[row["host_id"]]["seq"]:
                fulls[row["host_id"]] = row
        return fulls

    def evidence(self, host: dict[str, Any], today: dt.date, assigned: _Assigned) -> HostEvidence:
        findings = sorted(self.findings.get(host["pk"], []), key=lambda row: row["rule"])
        full = self.fulls.get(host["pk"])
        heartbeat = self.heartbeats.get(full["confirmed_by"]) if full is not None else None
        full_body = bytes(full["envelope"]) if full is not None else None
        envelopes: list[tuple[int, bytes]] = []
        rests_on: list[dict[str, Any]] = []
        for report, kind, role in ((full, "full", "results"), (heartbeat, "heartbeat", "confirms")):
            if report is not None:
                envelopes.append((report["seq"], bytes(report["envelope"])))
                rests_on.append(
                    {"host_id": host["host_id"], "seq": report["seq"], "kind": kind, "role": role}
                )
        results = [_result(row) for row in findings]
        record: dict[str, Any] = {
            "host_id": host["host_id"],
            "public_key": base64.b64encode(bytes(host["public_key"])).decode("ascii"),
            "unit": host["unit__path"],
            **{name: host[name] for name in signed.IDENTITY_FIELDS},
            "status": host["status"],
            "first_seen": _time(host["first_seen"]),
            "last_seen": _time(host["last_seen"]),
            "clone_suspected": host["clone_suspected_at"] is not None,
            "state": signed.state(
                [item["status"] for item in results] if full is not None else None
            ),
            "policy": (
                {
                    "id": full["policy_id"],
                    "version": full["policy_version"],
                    "sha256": full["policy_sha256"],
                }
                if full is not None
                else None
            ),
            "assigned_policy": assigned(host["unit_id"]),
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
            **_inventory(full_body),
            "rectifications": [
                _rectification(row, today) for row in self.notices.get(host["pk"], [])
            ],
            "rests_on": rests_on,
        }
        return HostEvidence(record, envelopes)


def subtree_evidence(unit: Unit, today: dt.date) -> Iterator[HostEvidence]:
    """Every host of the subtree, one at a time, read a batch of hosts at a time."""
    assigned = _Assigned()
    rows = hosts_of(unit).values(*_HOST_FIELDS).iterator(chunk_size=HOSTS_PER_BATCH)
    while batch := list(itertools.islice(rows, HOSTS_PER_BATCH)):
        reads = _Batch(batch)
        for host in batch:
            yield reads.evidence(host, today, assigned)

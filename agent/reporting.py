"""A check result as a report: the payload of `agent.protocol.payload`, full or heartbeat.

Storage on the server grows with change, not with time: a report carries the machine's whole
state only when that state differs from the last *acknowledged* full report, when that one is
older than `full_refresh_days`, or when nothing full was acknowledged yet (the first report,
or after the server answered `need_full`, which clears `last_full_state_hash`). Otherwise it
is a heartbeat naming the state's hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.config import DEFAULT_FULL_REFRESH_DAYS
from agent.evaluation import CheckResult, Finding, Status
from agent.facts import Inventory, to_jsonable
from agent.protocol.envelope import MAX_ENVELOPE_BYTES, encode_envelope, format_time, parse_time
from agent.protocol.errors import ProtocolError
from agent.protocol.payload import PAYLOAD_VERSION, TRIGGERS, encode_payload, state_hash
from agent.state import Delivery

FULL = "full"
HEARTBEAT = "heartbeat"
# What a full report gives up, in this order, rather than exceed the server's size limit.
_OMISSIBLE = ("software", "neighbours", "services", "network", "media")


@dataclass(frozen=True)
class Report:
    kind: str  # FULL | HEARTBEAT
    failing: bool  # some finding has status fail: the spool never drops such a report
    state_hash: str
    payload: dict[str, Any]


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "category": finding.category.value,
        "severity": finding.severity.value,
        "status": finding.status.value,
        "title": {"zh": finding.title.zh, "en": finding.title.en},
        "message": {"zh": finding.message.zh, "en": finding.message.en},
        "evidence": to_jsonable(finding.evidence),
        "remedy": {"zh": finding.remedy.zh, "en": finding.remedy.en} if finding.remedy else None,
    }


def inventory_json(inventory: Inventory) -> dict[str, Any]:
    """What dashboards and snapshots show. Not processes: they change by the minute and say
    nothing a finding does not already say."""
    return {
        "software": to_jsonable(inventory.software) if inventory.software is not None else None,
        "services": to_jsonable(inventory.services) if inventory.services is not None else None,
        "media": to_jsonable(inventory.media) if inventory.media is not None else None,
        "network": to_jsonable(inventory.network) if inventory.network is not None else None,
        "neighbours": (
            to_jsonable(inventory.neighbours) if inventory.neighbours is not None else None
        ),
    }


def choose_kind(
    current_hash: str, delivery: Delivery, now: dt.datetime, full_refresh_days: int
) -> str:
    if delivery.last_full_state_hash is None or delivery.last_full_state_hash != current_hash:
        return FULL
    if delivery.last_full_at is None:
        return FULL
    try:
        last_full = parse_time(delivery.last_full_at)
    except ProtocolError:
        return FULL
    if now - last_full >= dt.timedelta(days=full_refresh_days):
        return FULL
    return HEARTBEAT


def build_report(
    result: CheckResult,
    trigger: str,
    delivery: Delivery,
    answered_commands: Sequence[str] = (),
    full_refresh_days: int = DEFAULT_FULL_REFRESH_DAYS,
    now: dt.datetime | None = None,
) -> Report:
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}; one of {', '.join(TRIGGERS)}")
    now = now or dt.datetime.now(dt.timezone.utc)
    host = to_jsonable(result.inventory.host) if result.inventory.host is not None else {}
    findings = [finding_json(finding) for finding in result.findings]
    inventory = inventory_json(result.inventory)
    current_hash = state_hash(host, findings, inventory)
    kind = choose_kind(current_hash, delivery, now, full_refresh_days)
    summary = result.summary
    policy = result.policy
    payload: dict[str, Any] = {
        "v": PAYLOAD_VERSION,
        "kind": kind,
        "created_at": format_time(result.checked_at),
        "trigger": trigger,
        "state_hash": current_hash,
        "policy": {"id": policy.id, "version": policy.version, "sha256": policy.sha256},
        "summary": {
            "compliant": summary.compliant,
            "passed": summary.passed,
            "failed": summary.failed,
            "errors": summary.errors,
            "not_applicable": summary.not_applicable,
        },
        "answered_commands": list(answered_commands),
    }
    if kind == FULL:
        payload["host"] = host
        payload["findings"] = findings
        payload["inventory"] = inventory
        payload["errors"] = dict(result.inventory.errors)
    failing = any(finding.status is Status.FAIL for finding in result.findings)
    return Report(kind=kind, failing=failing, state_hash=current_hash, payload=payload)


def encode_report(
    report: Report,
    private_key: Ed25519PrivateKey,
    host_id: str,
    seq: int,
    sent_at: dt.datetime,
    max_bytes: int = MAX_ENVELOPE_BYTES,
) -> bytes:
    """The signed envelope. A full report that would exceed the server's limit drops
    inventory sections (saying so in `errors`) instead of being refused as a whole: the
    findings are what matters. The state hash still covers the whole state."""
    payload = report.payload
    body = encode_envelope(private_key, host_id, seq, sent_at, encode_payload(payload))
    omissible = list(_OMISSIBLE) if report.kind == FULL else []
    while len(body) > max_bytes and omissible:
        name = omissible.pop(0)
        if payload["inventory"].get(name) is None:
            continue
        payload = {
            **payload,
            "inventory": {**payload["inventory"], name: None},
            "errors": {**payload["errors"], name: "omitted: the report would exceed the limit"},
        }
        body = encode_envelope(private_key, host_id, seq, sent_at, encode_payload(payload))
    return body

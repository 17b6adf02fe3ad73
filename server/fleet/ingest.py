"""Accepting a signed report: every check of docs/protocol.md, in its order, then one
transaction that stores it.

    1. size        too_large (the view refuses an oversized Content-Length before reading)
    2. shape       malformed_json, schema_violation, unsupported_version   (decode_envelope)
    3. host        unknown_host, host_revoked
    4. signature   bad_signature
    5. sequence    replay, seq_out_of_order, seq_conflict (flags the host as cloned)
    6. time        clock_skew (over 10 minutes ahead), too_old (over 90 days behind)
    7. payload     bad_payload, payload_too_large
    8. store       Report (body verbatim), host state, findings, LAN neighbours (sightings),
                   answered commands, heartbeat retention; then `report_ingested` is sent
                   (still inside the transaction); the answer names the effective policy and
                   pending commands, and carries a receipt signed for exactly this report (a
                   `replay` refusal carries one too): the agent deletes its copy only on such
                   a receipt

A refusal stores nothing, except that a seq_conflict leaves the host flagged (and audited):
that flag is committed before the refusal is raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from agent.protocol.documents import receipt
from agent.protocol.envelope import Envelope, decode_envelope, load_json_object, verify_envelope
from agent.protocol.errors import ProtocolError
from agent.protocol.payload import validate_payload
from server.fleet import retention, state
from server.fleet.clones import flag_clone
from server.fleet.commands import answer_commands, signed_commands
from server.fleet.findings import apply_findings
from server.fleet.identity import identity_from
from server.fleet.models import FindingChange, Host, HostStatus, Report, ReportKind
from server.fleet.policies import effective_policy
from server.fleet.sequence import SeqState, SeqVerdict, to_signed, to_unsigned
from server.fleet.signals import report_ingested
from server.lib.server_key import current_server_key
from server.lib.storable import clean_json
from server.sightings.recording import agent_view, record_agent_view

MAX_FUTURE = dt.timedelta(minutes=10)
MAX_AGE = dt.timedelta(days=90)
_MAX_COUNT = 2**31 - 1


@dataclass(frozen=True)
class Ack:
    """The 200 answer to an accepted report."""

    seq: int
    kind: str
    need_full: bool
    policy: dict[str, str] | None
    commands: dict[str, str]
    receipt: dict[str, str]  # the same facts, signed for this report: what the agent trusts

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.seq,
            "stored": self.kind,
            "need_full": self.need_full,
            "policy": self.policy,
            "commands": self.commands,
            "receipt": self.receipt,
        }


def ingest(body: bytes, now: dt.datetime, max_bytes: int) -> Ack:
    envelope = decode_envelope(body, max_bytes)
    with transaction.atomic():
        host = _locked_host(envelope.host_id)
        verify_envelope(envelope, bytes(host.public_key))
        window = SeqState(host.last_seq, to_unsigned(host.seq_window))
        verdict = window.verdict(envelope.seq)
        if verdict is SeqVerdict.NEW:
            _check_time(envelope, now)
            payload = _payload(envelope)
            return _store(host, envelope, body, payload, window, now)
        # Leaving the block normally commits a clone flag set by _refuse_seen.
        refusal = _refuse_seen(host, envelope, verdict, now)
    raise refusal


def _locked_host(host_id: str) -> Host:
    host = (
        Host.objects.select_for_update(of=("self",))
        .filter(host_id=host_id)
        .select_related("unit")
        .first()
    )
    if host is None:
        raise ProtocolError("unknown_host", f"no host {host_id} is enrolled here")
    if host.status == HostStatus.REVOKED:
        raise ProtocolError("host_revoked", f"host {host_id} was revoked")
    return host


def _refuse_seen(
    host: Host, envelope: Envelope, verdict: SeqVerdict, now: dt.datetime
) -> ProtocolError:
    """Why a seq that is not new is refused; a stored report with other signed content
    flags the host. The comparison is of what the signature covers (`Envelope.digest`), not
    of the bytes: anyone holding an envelope (snapshots contain them) can re-serialise it,
    and such a copy is a replay of the same report, not evidence of a second machine."""
    stored = (
        Report.objects.filter(host=host, seq=envelope.seq)
        .values_list("envelope", flat=True)
        .first()
    )
    if stored is not None and _stored_digest(bytes(stored)) != envelope.digest():
        if flag_clone(host, f"two different reports signed with seq {envelope.seq}", now):
            host.save(update_fields=["clone_suspected_at", "clone_reason"])
        return ProtocolError(
            "seq_conflict", f"another report was accepted as seq {envelope.seq}; host flagged"
        )
    if verdict is SeqVerdict.SEEN or stored is not None:
        # Signed, so that the agent may delete its copy: the server holds this report (or
        # held it: heartbeats are pruned), and no other report under this seq.
        signed = receipt(
            current_server_key(),
            host.host_id,
            envelope.seq,
            envelope.digest(),
            "replay",
            now,
            policy=_policy_summary(host),
        )
        return ProtocolError(
            "replay", f"seq {envelope.seq} was accepted already", extra={"receipt": signed}
        )
    return ProtocolError(
        "seq_out_of_order", f"seq {envelope.seq} is older than the last 64 accepted reports"
    )


def _stored_digest(stored: bytes) -> str | None:
    """The digest of a stored envelope; it was accepted once, so it decodes (whatever the
    size limit is today)."""
    try:
        return decode_envelope(stored, max_bytes=len(stored)).digest()
    except ProtocolError:
        return None


def _check_time(envelope: Envelope, now: dt.datetime) -> None:
    sent = envelope.sent_at_time
    if sent > now + MAX_FUTURE:
        raise ProtocolError("clock_skew", f"sent_at {envelope.sent_at} is in the future")
    if sent < now - MAX_AGE:
        raise ProtocolError("too_old", f"sent_at {envelope.sent_at} is over 90 days ago")


def _payload(envelope: Envelope) -> dict[str, Any]:
    """The validated payload, cleaned for storage; bad_payload names what is wrong."""
    raw = envelope.decoded_payload()
    try:
        payload = load_json_object(raw, "the payload")
    except ProtocolError as exc:
        raise ProtocolError("bad_payload", exc.detail) from None
    validate_payload(payload)
    payload = dict(clean_json(payload, "bad_payload"))
    counts = payload["summary"]
    if any(counts[name] > _MAX_COUNT for name in ("passed", "failed", "errors", "not_applicable")):
        raise ProtocolError("bad_payload", "summary counts are out of range")
    rules = [finding["rule"] for finding in payload.get("findings", [])]
    if len(rules) != len(set(rules)):
        raise ProtocolError("bad_payload", "a rule appears twice in findings")
    return payload


def _store(
    host: Host,
    envelope: Envelope,
    body: bytes,
    payload: dict[str, Any],
    window: SeqState,
    now: dt.datetime,
) -> Ack:
    """Store the report and bring the host up to date (numbered steps in the module doc)."""
    kind = ReportKind(payload["kind"])
    newest = envelope.seq > window.last  # a late report inside the window changes no state
    previous_heartbeat = retention.newest_heartbeat(host) if kind == ReportKind.HEARTBEAT else None
    summary, policy = payload["summary"], payload["policy"]
    report = Report.objects.create(
        host=host,
        seq=envelope.seq,
        received_at=now,
        sent_at=envelope.sent_at_time,
        kind=kind,
        envelope=body,
        trigger=payload["trigger"],
        state_hash=payload["state_hash"],
        policy_id=policy["id"],
        policy_version=policy["version"],
        policy_sha256=policy["sha256"],
        compliant=summary["compliant"],
        passed=summary["passed"],
        failed=summary["failed"],
        errors=summary["errors"],
        not_applicable=summary["not_applicable"],
    )
    accepted = window.accept(envelope.seq)
    host.last_seq, host.seq_window = accepted.last, to_signed(accepted.window)
    host.last_seen, host.status, host.silent_since = now, HostStatus.ACTIVE, None
    changes: list[FindingChange] = []
    if newest:
        host.last_report = report
        host.policy_id, host.policy_version = report.policy_id, report.policy_version
        if kind == ReportKind.FULL:
            changes = _apply_full_state(host, payload, report, now)
    host.save()
    answer_commands(host, payload["answered_commands"], report, now)
    if kind == ReportKind.HEARTBEAT:
        days = [report.sent_at] + ([previous_heartbeat.sent_at] if previous_heartbeat else [])
        retention.prune_heartbeats(host, days)
    report_ingested.send(sender=Report, host=host, report=report, changes=changes)
    need_full = kind == ReportKind.HEARTBEAT and payload["state_hash"] != host.last_full_state_hash
    policy_summary = _policy_summary(host)
    signed = receipt(
        current_server_key(),
        host.host_id,
        envelope.seq,
        envelope.digest(),
        "accepted",
        now,
        need_full=need_full,
        policy=policy_summary,
    )
    return Ack(
        envelope.seq,
        kind.value,
        need_full,
        policy_summary,
        signed_commands(host, now),
        signed,
    )


def _apply_full_state(
    host: Host, payload: dict[str, Any], report: Report, now: dt.datetime
) -> list[FindingChange]:
    identity = identity_from(payload["host"])
    for name, value in identity.fields_without_machine_id().items():
        setattr(host, name, value)
    if not host.machine_id:
        host.machine_id = identity.machine_id
    elif identity.machine_id and identity.machine_id != host.machine_id:
        reason = (
            f"a full report names machine id {identity.machine_id!r}, "
            f"enrolled as {host.machine_id!r}"
        )
        flag_clone(host, reason, now)
    host.last_full_state_hash = payload["state_hash"]
    state.apply_failures(host, payload["findings"])
    state.replace_addresses(host, *state.neighbours(payload["inventory"]))
    view = agent_view(payload["inventory"])
    if view is not None:
        record_agent_view(host, view, min(report.sent_at, now))
    return apply_findings(host, payload["findings"], report, report.sent_at)


def _policy_summary(host: Host) -> dict[str, str] | None:
    policy = effective_policy(host.unit)
    if policy is None:
        return None
    return {"id": policy.policy_id, "version": policy.version, "sha256": policy.sha256}

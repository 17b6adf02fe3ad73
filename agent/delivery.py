"""Flushing the spool, oldest first, and acting on what the server acknowledges.

For each spooled report: POST it (agent.transport.post_report) and
  - ACCEPTED: record the ack in delivery.json, then delete the file (a crash in between
    resends it; the server answers `replay` and it is deleted then);
  - DUPLICATE (`replay`): delete it, the server has it;
  - REFUSED: move it to rejected/ with the reason, and go on with the next;
  - RETRY: stop here, keep it and everything behind it, so order is kept.
ACCEPTED and DUPLICATE count only with a receipt that the server key pinned at enrollment
signed for exactly this report (host, seq, digest: agent.protocol.documents); a forged or
missing one is a RETRY, so a man in the middle cannot make the agent drop a report.

The receipt may name the policy the server assigns, and an acknowledgement may carry signed
commands. A policy whose sha256 differs from the stored one is fetched with a signed GET,
verified against the pinned key (for this host, recent, not older than the one held),
validated by the policy loader, and only then stored. Commands are verified the same way;
new "recheck" commands are handed back to the caller, which runs them. Anything not signed
by the pinned key is refused with a log line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.errors import PolicyError
from agent.policy.loader import load_policy_bytes
from agent.protocol.auth import request_authorization
from agent.protocol.documents import (
    Command,
    Receipt,
    verified_commands,
    verified_policy,
    verified_receipt,
)
from agent.protocol.envelope import decode_envelope, format_time
from agent.protocol.errors import ProtocolError
from agent.spool import Spool, SpoolEntry
from agent.state import Enrollment, PolicyInfo, StateDir
from agent.transport import Answer, Outcome, Transport, TransportError, post_report

log = logging.getLogger(__name__)

POLICY_PATH = "/api/v1/policy"
COMMANDS_PATH = "/api/v1/commands"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class FlushResult:
    delivered: int = 0  # accepted, or already held by the server
    rejected: int = 0
    remaining: int = 0  # reports still waiting after the flush
    failed: bool = False  # a retryable failure stopped the flush
    failure: str = ""
    policy_changed: bool = False
    commands: list[Command] = field(default_factory=list)  # new, not yet executed


class Courier:
    """Delivers the spool of one enrolled agent."""

    def __init__(
        self,
        state: StateDir,
        spool: Spool,
        transport: Transport,
        enrollment: Enrollment,
        private_key: Ed25519PrivateKey,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.state = state
        self.spool = spool
        self.transport = transport
        self.enrollment = enrollment
        self.server_key = enrollment.server_key()
        self.private_key = private_key
        self.clock = clock

    def flush(self, should_stop: Callable[[], bool] = lambda: False) -> FlushResult:
        result = FlushResult()
        fetched_policy: set[str] = set()  # one fetch attempt per policy hash per flush
        for entry in self.spool.entries():
            if should_stop():
                break
            body = self.spool.read(entry)
            if body is None:
                continue  # delivered by another process, or quarantined
            posted = post_report(self.transport, body, entry.seq)
            if posted.outcome is Outcome.REFUSED:
                self.spool.reject(entry, posted.reason, posted.detail, posted.status)
                result.rejected += 1
                continue
            receipt, failure = None, posted.detail
            if posted.outcome is not Outcome.RETRY:
                try:
                    receipt = self._receipt(posted.ack or {}, entry, body, posted.outcome)
                except ProtocolError as exc:
                    failure = f"the answer is not trustworthy: {exc}"
            if receipt is None:
                log.warning("report seq %d not delivered, will retry: %s", entry.seq, failure)
                result.failed, result.failure = True, failure
                break
            if posted.outcome is Outcome.DUPLICATE:
                log.info("report seq %d: the server has it already (replay)", entry.seq)
                self._record_ack(entry.seq, None)
            else:
                self._record_ack(entry.seq, _full_state_hash(entry, body), receipt.need_full)
            self.spool.remove(entry)
            result.delivered += 1
            self._act_on_ack(receipt, posted.ack or {}, result, fetched_policy)
        result.remaining = self.spool.count()
        return result

    # --- the acknowledgement ---------------------------------------------------------------

    def _record_ack(self, seq: int, full_hash: str | None, need_full: bool = False) -> None:
        """`full_hash` is the state hash of an acknowledged FULL report, else None."""
        now = format_time(self.clock())
        with self.state.locked():
            delivery = self.state.load_delivery()
            delivery = replace(
                delivery, last_ack_seq=max(delivery.last_ack_seq, seq), last_ack_at=now
            )
            if full_hash is not None:
                delivery = replace(delivery, last_full_state_hash=full_hash, last_full_at=now)
            if need_full:
                log.info("the server asks for a full report")
                delivery = replace(delivery, last_full_state_hash=None)
            self.state.save_delivery(delivery)

    def _receipt(
        self, answer: dict[str, Any], entry: SpoolEntry, body: bytes, outcome: Outcome
    ) -> Receipt:
        """The server's signed receipt for exactly this report, with the outcome it claims."""
        digest = decode_envelope(body).digest()
        receipt = verified_receipt(
            answer, self.server_key, self.enrollment.host_id, entry.seq, digest
        )
        expected = "accepted" if outcome is Outcome.ACCEPTED else "replay"
        if receipt.outcome != expected:
            raise ProtocolError(
                "bad_server_signature", f"the receipt says {receipt.outcome}, not {expected}"
            )
        return receipt

    def _act_on_ack(
        self, receipt: Receipt, ack: dict[str, Any], result: FlushResult, fetched: set[str]
    ) -> None:
        """The policy named in the signed receipt; the commands (signed on their own)."""
        policy = receipt.policy
        if isinstance(policy, dict) and isinstance(policy.get("sha256"), str):
            wanted = policy["sha256"]
            stored = self.state.load_policy_info()
            if (stored is None or stored.sha256 != wanted) and wanted not in fetched:
                fetched.add(wanted)
                if self.fetch_policy():
                    result.policy_changed = True
        commands = ack.get("commands")
        if isinstance(commands, dict):
            known = set(self.state.executed_commands()) | {c.id for c in result.commands}
            for command in self._verified_commands(commands):
                if command.id not in known:
                    known.add(command.id)
                    result.commands.append(command)

    def _verified_commands(self, response: dict[str, Any]) -> list[Command]:
        try:
            return verified_commands(
                response, self.server_key, self.enrollment.host_id, self.clock()
            )
        except (ProtocolError, KeyError, TypeError, ValueError) as exc:
            log.error("server commands refused, not executed: %s", exc)
            return []

    # --- the policy ----------------------------------------------------------------------------

    def _signed_get(self, path: str, headers: dict[str, str]) -> Answer:
        """GET `path` with this host's signed Authorization header; TransportError when the
        server cannot be reached."""
        authorization = request_authorization(
            self.private_key,
            self.enrollment.host_id,
            "GET",
            self.transport.signed_path(path),
            self.clock(),
        )
        return self.transport.request(
            "GET", path, headers={**headers, "Authorization": authorization}
        )

    def fetch_commands(self) -> list[Command]:
        """The host's pending commands not executed yet, verified; [] when the server cannot
        be asked or its answer is not trustworthy (they come again with the next ack)."""
        try:
            answer = self._signed_get(COMMANDS_PATH, {})
        except TransportError as exc:
            log.warning("commands not fetched: %s", exc)
            return []
        document = answer.json_object() if answer.status == 200 else None
        if document is None:
            log.warning("commands not fetched: HTTP %d", answer.status)
            return []
        known = set(self.state.executed_commands())
        return [c for c in self._verified_commands(document) if c.id not in known]

    def fetch_policy(self) -> bool:
        """GET the assigned policy; True when a new, verified, valid policy was stored."""
        stored = self.state.load_policy_info()
        headers = {} if stored is None else {"If-None-Match": f'"{stored.sha256}"'}
        try:
            answer = self._signed_get(POLICY_PATH, headers)
        except TransportError as exc:
            log.warning("policy not fetched; going on with the one held: %s", exc)
            return False
        if answer.status == 304:
            return False
        if answer.status == 204:
            log.info("the server assigns no policy to this host; keeping the current one")
            return False
        document = answer.json_object() if answer.status == 200 else None
        if document is None:
            log.warning("policy not fetched: HTTP %d", answer.status)
            return False
        try:
            signed = verified_policy(
                document,
                self.server_key,
                self.enrollment.host_id,
                self.clock(),
                stored.issued_time() if stored is not None else None,
            )
            policy = load_policy_bytes(signed.yaml, str(self.state.policy_path))
        except ProtocolError as exc:
            log.error("server policy refused, not applied: %s", exc)
            return False
        except PolicyError as exc:
            log.error("server policy refused, not applied: it does not validate:\n%s", exc)
            return False
        info = PolicyInfo(policy.id, policy.version, policy.sha256, format_time(signed.issued_at))
        self.state.store_policy(signed.yaml, info)
        log.info("server policy %s version %s stored", policy.id, policy.version)
        return True


def _full_state_hash(entry: SpoolEntry, body: bytes) -> str | None:
    """The state hash a FULL report carried, read back from its own signed bytes."""
    if entry.kind != "full":
        return None
    try:
        payload = json.loads(decode_envelope(body).decoded_payload())
    except (ProtocolError, ValueError):
        return None
    value = payload.get("state_hash") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None

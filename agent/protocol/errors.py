"""Why a message was refused: one reason code per cause, with the HTTP status it maps to.

Reason codes are part of the protocol (agents and tests match on them); the detail text is
for people and may change.
"""

from __future__ import annotations

from typing import Any

from agent.errors import CustosError

# reason -> HTTP status the server answers with
REASONS: dict[str, int] = {
    "too_large": 413,
    "payload_too_large": 413,
    "malformed_json": 400,
    "schema_violation": 400,
    "unsupported_version": 400,
    "bad_payload": 400,
    "clock_skew": 400,
    "too_old": 400,
    "bad_signature": 401,
    "bad_proof": 401,
    "unauthorized": 401,
    "host_revoked": 403,
    "token_invalid": 403,
    "token_expired": 403,
    "token_used_up": 403,
    "token_revoked": 403,
    "unknown_host": 404,
    "replay": 409,
    "seq_out_of_order": 409,
    "seq_conflict": 409,
    "bad_server_signature": 502,  # agent side only: the server's answer was not trustworthy
}


class ProtocolError(CustosError):
    """A message that must be refused; `reason` is one of REASONS. `extra` holds further
    fields of the refusal's JSON body (a `replay` carries the server's signed receipt)."""

    def __init__(self, reason: str, detail: str, extra: dict[str, Any] | None = None) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown protocol reason {reason!r}")
        self.reason = reason
        self.detail = detail
        self.extra = dict(extra or {})
        super().__init__(f"{reason}: {detail}")

    @property
    def http_status(self) -> int:
        return REASONS[self.reason]

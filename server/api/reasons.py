"""Which refusals each endpoint can answer: the OpenAPI document is built from this, and the
tests check that every refusal they provoke is listed for its endpoint."""

from __future__ import annotations

from agent.protocol.errors import REASONS

_SIGNED_GET = ("unauthorized", "clock_skew", "unknown_host", "host_revoked")

ENDPOINT_REASONS: dict[str, tuple[str, ...]] = {
    "enroll": (
        "too_large",
        "malformed_json",
        "schema_violation",
        "bad_proof",
        "token_invalid",
        "token_expired",
        "token_used_up",
        "token_revoked",
    ),
    "reports": (
        "too_large",
        "malformed_json",
        "schema_violation",
        "unsupported_version",
        "unknown_host",
        "host_revoked",
        "bad_signature",
        "replay",
        "seq_out_of_order",
        "seq_conflict",
        "clock_skew",
        "too_old",
        "bad_payload",
        "payload_too_large",
    ),
    "policy": _SIGNED_GET,
    "commands": _SIGNED_GET,
}


def reasons_by_status(endpoint: str) -> dict[int, list[str]]:
    """The endpoint's refusal reasons grouped by the HTTP status they are answered with."""
    grouped: dict[int, list[str]] = {}
    for reason in ENDPOINT_REASONS[endpoint]:
        grouped.setdefault(REASONS[reason], []).append(reason)
    return dict(sorted(grouped.items()))

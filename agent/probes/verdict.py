"""What one probe concluded, before the runner stamps it with timing into a ProbeResult.

Every probe kind reaches the same four conclusions for the same reasons; keeping those rules
here means http, tcp and dns cannot drift apart on what counts as "the internet answered".
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.facts import ProbeOutcome
from agent.probes.nonce import check_signature


@dataclass(frozen=True)
class Verdict:
    outcome: ProbeOutcome
    detail: str
    verified: bool = False


def unreachable(detail: str) -> Verdict:
    return Verdict(ProbeOutcome.UNREACHABLE, detail)


def misconfigured(detail: str) -> Verdict:
    return Verdict(ProbeOutcome.ERROR, detail)


def unproven(detail: str) -> Verdict:
    """Something answered, but in a way that cannot prove who it was."""
    return Verdict(ProbeOutcome.UNVERIFIED, detail)


def answered(
    what: str,
    responder_key: bytes | None,
    nonce: bytes,
    signature_text: str | None,
    announced_key: str | None = None,
) -> Verdict:
    """An answer counts as the internet only if no proof was asked or the proof holds.

    `what` describes who answered and how (address, status, server); the signature check's
    reason is appended so the evidence says why an answer did or did not count.
    """
    if responder_key is None:
        return Verdict(ProbeOutcome.REACHED, what)
    verified, why = check_signature(responder_key, nonce, signature_text, announced_key)
    outcome = ProbeOutcome.REACHED if verified else ProbeOutcome.UNVERIFIED
    return Verdict(outcome, f"{what}; {why}", verified=verified)

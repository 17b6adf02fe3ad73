"""Egress probes: try the policy's outside endpoints and say whether the internet answered.

On a machine that must stay offline a probe that is REACHED is the violation. A probe with a
responder key only counts when the answer is signed over our fresh nonce by that key (see
`agent.probes.nonce`), so a captive portal or a fake on the intranet cannot pass for the
internet. The responder that institutions run outside their network is
`python -m agent.probes.responder`.

    run_probes(specs, total_timeout) -> tuple[ProbeResult, ...]

Importing this package is free: the runner (and the crypto it needs) loads on the first call,
so that `agent.probes.keytext` can be used by the policy loader at no cost.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.facts import ProbeResult
from agent.policy.model import ProbeSpec

__all__ = ["run_probes"]


def run_probes(specs: Sequence[ProbeSpec], total_timeout: float) -> tuple[ProbeResult, ...]:
    from agent.probes.runner import run_probes as run

    return run(specs, total_timeout)

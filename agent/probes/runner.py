"""Run a policy's probes at the same time, each within its own time-out and all within one bound.

A check must never hang on the network: an offline machine is exactly where connects and
lookups stall. So every probe runs in its own daemon thread and the caller only ever *waits*
for them, up to each probe's `timeout_seconds` (plus a little grace for the probe to report
its own time-out) and never past `total_timeout`. A probe still running then is UNREACHABLE;
its thread is abandoned (daemon threads do not keep the agent from exiting). The system
resolver (getaddrinfo) cannot be interrupted, which is why this is waiting, not cancelling.

One thread per probe rather than a small pool: policies name a handful of endpoints, and a
pool would let one hung lookup delay the probes queued behind it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from agent.facts import ProbeOutcome, ProbeResult
from agent.policy.model import ProbeSpec
from agent.probes.dns import probe_dns
from agent.probes.http import probe_http
from agent.probes.keytext import PUBLIC_KEY_BYTES
from agent.probes.tcp import probe_tcp
from agent.probes.verdict import Verdict, misconfigured

Prober = Callable[[ProbeSpec, float], Verdict]

PROBERS: Mapping[str, Prober] = {
    "http": probe_http,
    "https": probe_http,
    "tcp": probe_tcp,
    "dns": probe_dns,
}
GRACE_SECONDS = 0.25  # lets a probe report its own, more precise, time-out first
TOTAL_BOUND_DETAIL = "timed out (total bound)"


def run_probes(specs: Sequence[ProbeSpec], total_timeout: float) -> tuple[ProbeResult, ...]:
    """Results in the order of `specs`, returned within `total_timeout` seconds; never raises."""
    started = time.monotonic()
    if not (math.isfinite(total_timeout) and total_timeout > 0):
        return tuple(
            _stamp(spec, misconfigured(f"total timeout must be positive, not {total_timeout}"), 0)
            for spec in specs
        )
    total_deadline = started + total_timeout
    runs = [_ProbeRun(spec, started, total_deadline) for spec in specs]
    return tuple(run.result() for run in runs)


class _ProbeRun:
    """One probe in its own thread; `result()` waits for it no longer than its bounds."""

    def __init__(self, spec: ProbeSpec, started: float, total_deadline: float) -> None:
        self.spec = spec
        self.started = started
        self.total_deadline = total_deadline
        self.done = threading.Event()
        self.verdict: Verdict | None = None
        self.elapsed = 0.0
        problem = config_problem(spec)
        if problem:
            self._finish(misconfigured(problem))
            return
        deadline = min(started + spec.timeout_seconds, total_deadline)
        threading.Thread(
            target=self._run,
            args=(PROBERS[spec.kind], deadline),
            name=f"custos-probe-{spec.id}",
            daemon=True,
        ).start()

    def _run(self, prober: Prober, deadline: float) -> None:
        try:
            verdict = prober(self.spec, deadline)
        except Exception as exc:  # a bug or a local failure must not take the check down
            verdict = misconfigured(f"the probe failed locally: {type(exc).__name__}: {exc}")
        self._finish(verdict)

    def _finish(self, verdict: Verdict) -> None:
        self.elapsed = time.monotonic() - self.started
        self.verdict = verdict
        self.done.set()

    def result(self) -> ProbeResult:
        own_limit = self.started + self.spec.timeout_seconds + GRACE_SECONDS
        wait_until = min(own_limit, self.total_deadline)
        self.done.wait(max(wait_until - time.monotonic(), 0))
        if self.done.is_set() and self.verdict is not None:
            return _stamp(self.spec, self.verdict, self.elapsed)
        elapsed = time.monotonic() - self.started
        if own_limit < self.total_deadline:
            detail = f"no answer within {self.spec.timeout_seconds:g} s (probe timeout)"
        else:
            detail = TOTAL_BOUND_DETAIL
        return _stamp(self.spec, Verdict(ProbeOutcome.UNREACHABLE, detail), elapsed)


def config_problem(spec: ProbeSpec) -> str:
    """What makes `spec` impossible to run ("" when nothing does); checked before any I/O."""
    if spec.kind not in PROBERS:
        return f"unknown probe kind {spec.kind!r} (expected one of {', '.join(PROBERS)})"
    if not (math.isfinite(spec.timeout_seconds) and spec.timeout_seconds > 0):
        return f"probe timeout must be positive, not {spec.timeout_seconds}"
    if spec.responder_key is not None and len(spec.responder_key) != PUBLIC_KEY_BYTES:
        return (
            f"responder key must be {PUBLIC_KEY_BYTES} raw Ed25519 bytes, "
            f"not {len(spec.responder_key)}"
        )
    return ""


def _stamp(spec: ProbeSpec, verdict: Verdict, elapsed_seconds: float) -> ProbeResult:
    return ProbeResult(
        probe_id=spec.id,
        kind=spec.kind,
        target=spec.target,
        outcome=verdict.outcome,
        elapsed_ms=round(elapsed_seconds * 1000, 1),
        detail=verdict.detail,
        verified=verdict.verified,
    )

"""One self-inspection: collect the facts a policy needs, run its probes, evaluate.

Probes run in a background thread while the collectors read local state, so a check on an
isolated intranet PC (where probes wait for their timeouts) takes about as long as the slowest
probe rather than probes + collectors.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence

from agent.collectors import collect_inventory
from agent.collectors.base import CollectContext
from agent.evaluation import CheckResult, evaluate
from agent.facts import AssetFields, ProbeOutcome, ProbeResult
from agent.platforms.base import PlatformAdapter
from agent.policy.model import InternetCheck, InternetMode, MediaCheck, Policy, ProbeSpec

ProbeRunner = Callable[[Sequence[ProbeSpec], float], tuple[ProbeResult, ...]]


def needed_collectors(policy: Policy) -> list[str]:
    """Only what the policy's rules read; the host is always needed for the sheet."""
    names = ["host"]
    if policy.required_software or any(r.match for r in policy.forbidden_software):
        names.append("software")
    if policy.required_software or any(r.processes for r in policy.forbidden_software):
        names.append("processes")
    if any(r.must_run and r.must_run.services for r in policy.required_software):
        names.append("services")
    if policy.removable_media and policy.removable_media.rules:
        names.append("media")
    if policy.internet and any(r.check is not InternetCheck.PROBES for r in policy.internet.rules):
        names.append("network")
    return names


def history_since(policy: Policy, now: dt.datetime) -> dt.datetime | None:
    if not policy.removable_media:
        return None
    lookbacks = [
        rule.lookback_seconds
        for rule in policy.removable_media.rules
        if rule.check is MediaCheck.STORAGE_HISTORY
    ]
    return now - dt.timedelta(seconds=max(lookbacks)) if lookbacks else None


def _default_probe_runner(specs: Sequence[ProbeSpec], total: float) -> tuple[ProbeResult, ...]:
    from agent.probes import run_probes  # httpx and friends only load when probes run

    return run_probes(specs, total)


def _start_probes(
    policy: Policy, platform: str, runner: ProbeRunner
) -> tuple[threading.Thread | None, dict[str, tuple[ProbeResult, ...]]]:
    results: dict[str, tuple[ProbeResult, ...]] = {}
    section = policy.internet
    if section is None or section.mode is InternetMode.ALLOWED:
        return None, results
    rules = [
        rule
        for rule in section.rules
        if rule.check is InternetCheck.PROBES
        and rule.probes
        and (not rule.platforms or platform in rule.platforms)
    ]
    if not rules:
        return None, results

    def work() -> None:
        for rule in rules:
            try:
                results[rule.id] = runner(rule.probes, rule.total_timeout_seconds)
            except Exception as exc:  # a broken prober must not read as "unreachable"
                detail = f"probe runner failed: {type(exc).__name__}: {exc}"
                results[rule.id] = tuple(
                    ProbeResult(spec.id, spec.kind, spec.target, ProbeOutcome.ERROR, 0.0, detail)
                    for spec in rule.probes
                )

    thread = threading.Thread(target=work, name="custos-probes", daemon=True)
    thread.start()
    return thread, results


def run_check(
    policy: Policy,
    platform: PlatformAdapter,
    asset: AssetFields,
    now: dt.datetime | None = None,
    probe_runner: ProbeRunner = _default_probe_runner,
    whole_inventory: bool = False,
) -> CheckResult:
    """`whole_inventory`: collect every fact, not only what the rules read — a report to the
    server carries the machine's state for the dashboard and the auditors' check sheet."""
    started = time.monotonic()
    now = now or dt.datetime.now(dt.timezone.utc)
    probe_thread, probe_results = _start_probes(policy, platform.name, probe_runner)
    ctx = CollectContext(
        platform=platform,
        asset=asset,
        now=now,
        history_since=history_since(policy, now),
        neighbour_networks=policy.internet.allowed_networks if policy.internet else (),
    )
    inventory = collect_inventory(ctx, None if whole_inventory else needed_collectors(policy))
    if probe_thread is not None:
        probe_thread.join()
    findings = evaluate(policy, inventory, platform.name, now, probe_results)
    return CheckResult(
        policy=policy,
        inventory=inventory,
        findings=findings,
        checked_at=now,
        duration_seconds=time.monotonic() - started,
    )

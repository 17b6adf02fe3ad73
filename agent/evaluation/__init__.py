"""Evaluation: facts + policy -> findings, one finding per rule, in policy order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from agent.evaluation.asset import evaluate_asset
from agent.evaluation.findings import CheckResult, Finding, Status, Summary
from agent.evaluation.internet import evaluate_internet
from agent.evaluation.media import evaluate_media
from agent.evaluation.software import evaluate_forbidden, evaluate_required
from agent.facts import Inventory, ProbeResult
from agent.policy.model import Policy

__all__ = ["CheckResult", "Finding", "Status", "Summary", "evaluate"]


def evaluate(
    policy: Policy,
    inventory: Inventory,
    platform: str,
    now: dt.datetime,
    probe_results: Mapping[str, Sequence[ProbeResult]] | None = None,
) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    findings.extend(
        evaluate_required(rule, inventory, platform) for rule in policy.required_software
    )
    findings.extend(
        evaluate_forbidden(rule, inventory, platform) for rule in policy.forbidden_software
    )
    if policy.removable_media:
        section = policy.removable_media
        findings.extend(evaluate_media(r, section, inventory, platform, now) for r in section.rules)
    if policy.internet:
        internet = policy.internet
        results = probe_results or {}
        findings.extend(
            evaluate_internet(r, internet, inventory, platform, results) for r in internet.rules
        )
    findings.extend(evaluate_asset(rule, inventory, platform) for rule in policy.asset)
    return tuple(findings)

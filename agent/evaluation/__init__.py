"""Evaluation: facts + policy -> findings, one finding per rule, in policy order.

Regex matching is bounded in time (agent.policy.patterns): each search, and all of one
evaluation's searches together (MATCH_BUDGET_SECONDS)."""

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
from agent.policy.patterns import match_budget

# All regex matching of one evaluation together: a pattern that slips past the loader's
# backtracking check costs at most this, and its rules become `error`.
MATCH_BUDGET_SECONDS = 20.0

__all__ = ["CheckResult", "Finding", "Status", "Summary", "evaluate"]


def evaluate(
    policy: Policy,
    inventory: Inventory,
    platform: str,
    now: dt.datetime,
    probe_results: Mapping[str, Sequence[ProbeResult]] | None = None,
) -> tuple[Finding, ...]:
    with match_budget(MATCH_BUDGET_SECONDS):
        return _evaluate(policy, inventory, platform, now, probe_results)


def _evaluate(
    policy: Policy,
    inventory: Inventory,
    platform: str,
    now: dt.datetime,
    probe_results: Mapping[str, Sequence[ProbeResult]] | None,
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

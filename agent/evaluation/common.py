"""What every section's evaluator shares: platform applicability and missing facts."""

from __future__ import annotations

from collections.abc import Mapping

from agent.evaluation.findings import Finding, Status
from agent.i18n import text
from agent.policy.model import Category, Rule


def not_applicable_here(rule: Rule, category: Category, platform: str) -> Finding | None:
    if rule.platforms and platform not in rule.platforms:
        return Finding.of(
            rule,
            category,
            Status.NOT_APPLICABLE,
            text("platform.not_applicable", platform=platform),
        )
    return None


def facts_missing(rule: Rule, category: Category, what: str, errors: Mapping[str, str]) -> Finding:
    reason = errors.get(what, "not collected")
    return Finding.of(
        rule,
        category,
        Status.ERROR,
        text("facts.unavailable", what=text(f"what.{what}"), reason=reason),
        {"collector": what, "error": reason},
    )

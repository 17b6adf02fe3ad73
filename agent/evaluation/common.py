"""What every section's evaluator shares: platform applicability and rules that could not be
checked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from agent.errors import Cause, strongest
from agent.evaluation.findings import Finding, Status
from agent.facts import Inventory
from agent.i18n import LocalText, text
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


def could_not_check(
    rule: Rule,
    category: Category,
    message: LocalText,
    evidence: Mapping[str, Any],
    cause: Cause,
    reason: str,
) -> Finding:
    """An `error` finding. Its message says in words what could not be told and the cause
    (permission denied, …); the source's own words for what went wrong (`reason`: an OS or
    command error, English, for whoever investigates) go to the evidence as `error`, so that
    pages and the sheet show them apart as technical detail. Its remedy is the advice for the
    cause instead of the rule's remedy: the rule's remedy says how to fix a violation, and
    nobody has seen one; what helps is what stopped the check (administrator rights only when
    permission was refused)."""
    facts = {**evidence, "error": reason, "cause": cause.value}
    finding = Finding.of(rule, category, Status.ERROR, message, facts)
    return dataclasses.replace(finding, remedy=text(f"advice.{cause.value}"))


def unavailable(inventory: Inventory, sources: Iterable[str]) -> tuple[str, Cause]:
    """(why, cause) for facts of `sources` (collector names) that are missing."""
    names = sorted(set(sources))
    reason = "; ".join(inventory.errors.get(name, f"{name} not collected") for name in names)
    return reason, strongest([inventory.cause(name) for name in names])


def facts_missing(
    rule: Rule,
    category: Category,
    what: str,
    inventory: Inventory,
    evidence: Mapping[str, Any] | None = None,
) -> Finding:
    reason, cause = unavailable(inventory, [what])
    message = text(
        "facts.unavailable", what=text(f"what.{what}"), cause=text(f"cause.{cause.value}")
    )
    facts = {**(evidence or {}), "collector": what}
    return could_not_check(rule, category, message, facts, cause, reason)

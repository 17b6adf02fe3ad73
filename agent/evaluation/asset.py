"""Asset register: the fields a unit must record for every machine (机器编号, 责任人, ...)."""

from __future__ import annotations

from agent.evaluation.common import facts_missing, not_applicable_here
from agent.evaluation.findings import Finding, Status
from agent.facts import Inventory
from agent.i18n import LocalText, text
from agent.policy.model import AssetRule, Category

CATEGORY = Category.ASSET


def evaluate_asset(rule: AssetRule, inventory: Inventory, platform: str) -> Finding:
    skipped = not_applicable_here(rule, CATEGORY, platform)
    if skipped:
        return skipped
    if inventory.host is None:
        return facts_missing(rule, CATEGORY, "host", inventory)
    missing = inventory.host.asset.missing(rule.required_fields)
    evidence = {"required": list(rule.required_fields), "missing": list(missing)}
    if missing:
        names = [text(f"sheet.{name}") for name in missing]
        listed = LocalText(zh="、".join(n.zh for n in names), en=", ".join(n.en for n in names))
        return Finding.of(
            rule, CATEGORY, Status.FAIL, text("asset.missing", fields=listed), evidence
        )
    return Finding.of(rule, CATEGORY, Status.PASS, text("asset.ok"), evidence)

"""Findings: what one rule concluded about this machine, with the evidence behind it."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.facts import Inventory
from agent.i18n import LocalText
from agent.policy.model import Category, Policy, Rule, Severity
from agent.protocol.compliance import ComplianceState, compliance_state


class Status(str, enum.Enum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    FAIL = "fail"
    ERROR = "error"  # the facts needed could not be collected: nothing can be concluded
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Finding:
    rule: str
    category: Category
    severity: Severity
    status: Status
    title: LocalText
    message: LocalText
    # Plain JSON data: which package, process, device and serial, interface, probe and timing.
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remedy: LocalText | None = None

    @classmethod
    def of(
        cls,
        rule: Rule,
        category: Category,
        status: Status,
        message: LocalText,
        evidence: Mapping[str, Any] | None = None,
    ) -> Finding:
        return cls(
            rule=rule.id,
            category=category,
            severity=rule.severity,
            status=status,
            title=rule.title,
            message=message,
            evidence=evidence or {},
            remedy=rule.remedy,
        )


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    errors: int
    not_applicable: int

    @property
    def state(self) -> ComplianceState:
        statuses = ["fail"] * self.failed + ["error"] * self.errors
        return compliance_state(statuses)

    @property
    def compliant(self) -> bool:
        """Compliant means every applicable rule was checked and passed."""
        return self.state is ComplianceState.COMPLIANT

    @classmethod
    def of(cls, findings: tuple[Finding, ...]) -> Summary:
        def count(status: Status) -> int:
            return sum(1 for finding in findings if finding.status is status)

        return cls(
            passed=count(Status.PASS),
            failed=count(Status.FAIL),
            errors=count(Status.ERROR),
            not_applicable=count(Status.NOT_APPLICABLE),
        )


@dataclass(frozen=True)
class CheckResult:
    policy: Policy
    inventory: Inventory
    findings: tuple[Finding, ...]
    checked_at: dt.datetime
    duration_seconds: float = 0.0

    @property
    def summary(self) -> Summary:
        return Summary.of(self.findings)

"""The one definition of a PC's state from its rule results (agent/protocol/compliance.py)."""

from __future__ import annotations

import pytest

from agent.protocol.compliance import ComplianceState, compliance_state


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["pass", "pass"], ComplianceState.COMPLIANT),
        (["pass", "not_applicable"], ComplianceState.COMPLIANT),
        ([], ComplianceState.COMPLIANT),
        (["pass", "error"], ComplianceState.UNCHECKED),
        (["error", "not_applicable"], ComplianceState.UNCHECKED),
        (["pass", "fail", "error"], ComplianceState.NONCOMPLIANT),
        (["fail"], ComplianceState.NONCOMPLIANT),
    ],
)
def test_a_pc_is_compliant_only_when_every_applicable_rule_passed(
    statuses: list[str], expected: ComplianceState
) -> None:
    assert compliance_state(statuses) is expected

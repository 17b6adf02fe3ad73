"""What a set of rule results means for a PC: the one definition every figure uses.

A PC is compliant only when every applicable rule was checked and passed. A rule the agent
could not check (status `error`: the process list, the journal or the registry could not be
read) is never a pass, so a user who breaks a data source does not escape the check; but it
is not a proven violation either. Hence three states, decided in this order:

    noncompliant   at least one rule failed (a violation is known)
    unchecked      none failed, at least one could not be checked (未能检查)
    compliant      every applicable rule passed (not_applicable ones are ignored)

The agent's check sheet, the server's figures, snapshots and their offline verification all
call `compliance_state`, so the sheet a user sees and the figure an auditor reads agree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class ComplianceState(str, enum.Enum):
    COMPLIANT = "compliant"
    NONCOMPLIANT = "noncompliant"
    UNCHECKED = "unchecked"


def compliance_state(statuses: Iterable[str]) -> ComplianceState:
    """The state of a PC from its findings' statuses (pass|fail|error|not_applicable)."""
    seen = set(statuses)
    if "fail" in seen:
        return ComplianceState.NONCOMPLIANT
    if "error" in seen:
        return ComplianceState.UNCHECKED
    return ComplianceState.COMPLIANT

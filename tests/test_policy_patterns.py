"""Policy regexes cannot hang a check: catastrophic shapes are refused when a policy is
loaded (`policy validate`, `policy add`, the dashboard, the agent's download), and any
pattern that gets through matches with a time limit and makes its rule `error`."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from agent.evaluation import Status, evaluate
from agent.evaluation.software import evaluate_forbidden, evaluate_required
from agent.facts import Software
from agent.i18n import LocalText
from agent.policy.backtracking import catastrophic_backtracking
from agent.policy.loader import load_policy_bytes
from agent.policy.model import (
    ForbiddenSoftwareRule,
    RequiredSoftwareRule,
    Severity,
    SoftwareMatcher,
)
from agent.policy.patterns import MATCH_TIMEOUT, MatchTimeoutError, Pattern, match_budget
from tests.conftest import run_agent
from tests.machines import NOW, office_pc

REDOS = r"^(\S*?-?)*\d$"  # the pattern of the attack run (issue 9)
LONG_NAME = "a" * 40 + "x"  # takes re centuries; regex's time limit stops it

POLICY_WITH = """\
id: redos
version: "1"
title: {{zh: 正则, en: Regex}}
forbidden_software:
  - id: no-tools
    severity: high
    title: {{zh: 禁止工具, en: No tools}}
    match: {{name: '{pattern}'}}
"""

CATASTROPHIC = [
    REDOS,
    r"(a+)+b",
    r"(a|a)*b",
    r"(.*,)+x",
    r"(a?)*",
    r"(\w+\s?)*$",
    r"([a-z]+-?)+$",
    r"(x+x+)+y",
    r"(a|aa)+$",
    r"(\d+\.?)+$",
    r"(?:a*)*",
    r"((ab)*)*",
]
SAFE = [
    r"^VRV",
    r"天擎|TianQing",
    r"^10\.",
    r"(\d+\.)+\d+$",
    r"^(360|奇虎)",
    r"([a-z0-9-]+\.)+[a-z]{2,}$",
    r"(ab|ac)+",
    r"^vrv.*\.exe$",
    r"( \d+)*$",
    r"^[^-]+(-[^-]+)*$",
    r"(?=(a|b))x",
    r"(a{3})+",
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_shapes_are_found(pattern: str) -> None:
    assert catastrophic_backtracking(pattern) is not None


@pytest.mark.parametrize("pattern", SAFE)
def test_patterns_that_cannot_backtrack_catastrophically_pass(pattern: str) -> None:
    assert catastrophic_backtracking(pattern) is None


def test_the_attack_pattern_is_refused_with_file_line_key_and_reason() -> None:
    from agent.errors import PolicyError

    with pytest.raises(PolicyError) as refused:
        load_policy_bytes(POLICY_WITH.format(pattern=REDOS).encode(), "redos.yaml")

    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.key) == (
        "redos.yaml",
        8,
        "forbidden_software[0].match.name",
    )
    assert problem.reason.startswith(f"regular expression '{REDOS}' can backtrack catastrophically")


def test_policy_validate_refuses_the_attack_pattern(tmp_path: Path) -> None:
    policy = tmp_path / "redos.yaml"
    policy.write_text(POLICY_WITH.format(pattern=REDOS), encoding="utf-8")

    completed = run_agent("policy", "validate", str(policy), timeout=60)

    assert completed.returncode == 2
    assert "redos.yaml:8: forbidden_software[0].match.name:" in completed.stdout + completed.stderr
    assert "backtrack catastrophically" in completed.stdout + completed.stderr


def test_a_slow_search_stops_at_its_time_limit() -> None:
    started = time.monotonic()

    with pytest.raises(MatchTimeoutError) as stopped:
        Pattern(REDOS).search(LONG_NAME)

    assert time.monotonic() - started < MATCH_TIMEOUT + 10  # not centuries; CPU is shared
    assert stopped.value.pattern == REDOS


def test_a_budget_bounds_all_searches_together() -> None:
    pattern = Pattern(REDOS)
    with match_budget(0.3):
        with pytest.raises(MatchTimeoutError):
            pattern.search(LONG_NAME)  # spends the budget
        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(MatchTimeoutError):
                pattern.search(LONG_NAME)

    assert time.monotonic() - started < 2  # at once, not 20 times MATCH_TIMEOUT


def test_a_pattern_that_slips_through_makes_its_rule_an_error_not_a_pass() -> None:
    """A pattern built past the loader (as a stored policy from an older agent could hold)."""
    rule = ForbiddenSoftwareRule(
        id="no-tools",
        severity=Severity.HIGH,
        title=LocalText("禁止工具", "No tools"),
        match=(SoftwareMatcher(name=Pattern(REDOS)),),
    )
    pc = office_pc()
    pc = dataclasses.replace(
        pc, software=(*(pc.software or ()), Software(name=LONG_NAME, version="1", publisher=""))
    )  # type: ignore[misc]

    finding = evaluate_forbidden(rule, pc, "linux")

    assert finding.status is Status.ERROR
    assert finding.evidence == {
        "pattern": REDOS,
        "error": f"regular expression '{REDOS}' took over 0.50 s to match",
        "cause": "failed",
    }
    assert "ran out of matching time" in finding.message.en


def test_a_required_rule_whose_pattern_ran_out_of_time_leaves_installed_unknown() -> None:
    """So the server still counts it among the rule's hosts, as not verified."""
    rule = RequiredSoftwareRule(
        id="has-client",
        severity=Severity.CRITICAL,
        title=LocalText("客户端", "Client"),
        remedy=LocalText("安装客户端", "Install the client"),
        match=(SoftwareMatcher(name=Pattern(REDOS)),),
    )
    pc = office_pc()
    pc = dataclasses.replace(
        pc, software=(*(pc.software or ()), Software(name=LONG_NAME, version="1", publisher=""))
    )  # type: ignore[misc]

    finding = evaluate_required(rule, pc, "linux")

    assert finding.status is Status.ERROR
    assert finding.evidence == {
        "pattern": REDOS,
        "installed": None,
        "running": None,
        "error": f"regular expression '{REDOS}' took over 0.50 s to match",
        "cause": "failed",
    }
    assert finding.remedy is not None and "Install the client" not in finding.remedy.en


def test_evaluation_stays_within_its_budget_whatever_the_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import agent.evaluation

    monkeypatch.setattr(agent.evaluation, "MATCH_BUDGET_SECONDS", 1.0)
    policy = load_policy_bytes(POLICY_WITH.format(pattern="^no-such-tool").encode(), "p.yaml")
    slow = tuple(
        ForbiddenSoftwareRule(
            id=f"slow-{index}",
            severity=Severity.HIGH,
            title=LocalText("慢", "Slow"),
            match=(SoftwareMatcher(name=Pattern(REDOS)),),
        )
        for index in range(10)
    )
    policy = dataclasses.replace(policy, forbidden_software=slow)
    pc = office_pc()
    pc = dataclasses.replace(
        pc, software=(*(pc.software or ()), Software(name=LONG_NAME, version="1", publisher=""))
    )  # type: ignore[misc]
    started = time.monotonic()

    findings = evaluate(policy, pc, "linux", NOW)

    assert time.monotonic() - started < 15  # ten rules, one budget of 1 s
    assert {f.status for f in findings if f.rule.startswith("slow-")} == {Status.ERROR}

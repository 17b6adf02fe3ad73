"""Required software (installed *and* running) and forbidden software.

Patterns match with a time limit (agent.policy.patterns): a rule whose pattern runs out of
time is `error`, could not be checked."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath, PureWindowsPath

from agent.errors import Cause
from agent.evaluation.common import (
    could_not_check,
    facts_missing,
    not_applicable_here,
    unavailable,
)
from agent.evaluation.findings import Finding, Status
from agent.facts import Inventory, Process, Service, Software
from agent.i18n import text
from agent.policy.model import (
    Category,
    ForbiddenSoftwareRule,
    RequiredSoftwareRule,
    Rule,
    RunRequirement,
    SoftwareMatcher,
)
from agent.policy.patterns import MatchTimeoutError, Pattern

CATEGORY = Category.SOFTWARE


def matches(matcher: SoftwareMatcher, package: Software) -> bool:
    checks = (
        (matcher.name, package.name),
        (matcher.publisher, package.publisher),
        (matcher.version, package.version),
    )
    return all(pattern.search(value) for pattern, value in checks if pattern is not None)


def matching_packages(
    matchers: Iterable[SoftwareMatcher], software: Iterable[Software]
) -> list[Software]:
    matcher_list = list(matchers)
    return [pkg for pkg in software if any(matches(m, pkg) for m in matcher_list)]


def _exe_name(exe: str) -> str:
    return PureWindowsPath(exe).name if "\\" in exe else PurePath(exe).name


def process_matches(pattern: Pattern, process: Process) -> bool:
    return bool(
        pattern.search(process.name) or (process.exe and pattern.search(_exe_name(process.exe)))
    )


def service_matches(pattern: Pattern, service: Service) -> bool:
    return bool(pattern.search(service.name) or pattern.search(service.display_name))


def _package_evidence(packages: list[Software]) -> list[dict[str, str]]:
    return [
        {"name": p.name, "version": p.version, "publisher": p.publisher, "source": p.source}
        for p in packages
    ]


def _package_names(packages: list[Software]) -> str:
    return ", ".join(f"{p.name} {p.version}".strip() for p in packages[:5])


def _running_check(
    requirement: RunRequirement, inventory: Inventory
) -> tuple[bool | None, dict[str, object], list[str], set[str]]:
    """(running, evidence, patterns not satisfied, sources missing when unknown).

    `running` is None when the answer depends on facts that could not be collected, e.g.
    systemd is not reachable and no listed process was seen either.
    """
    process_hits: list[dict[str, object]] = []
    service_hits: list[dict[str, object]] = []
    satisfied: list[str] = []
    missing: list[str] = []
    unknown_sources: set[str] = set()
    for pattern in requirement.processes:
        if inventory.processes is None:
            unknown_sources.add("processes")
            continue
        hits = [p for p in inventory.processes if process_matches(pattern, p)]
        process_hits.extend(
            {"pid": p.pid, "name": p.name, "exe": p.exe, "user": p.user} for p in hits[:5]
        )
        (satisfied if hits else missing).append(f"process {pattern.pattern}")
    for pattern in requirement.services:
        if inventory.services is None:
            unknown_sources.add("services")
            continue
        found = [s for s in inventory.services if service_matches(pattern, s)]
        service_hits.extend(
            {"name": s.name, "state": s.state, "start_mode": s.start_mode} for s in found[:5]
        )
        running = any(s.state == "running" for s in found)
        (satisfied if running else missing).append(f"service {pattern.pattern}")
    evidence: dict[str, object] = {"processes": process_hits, "services": service_hits}
    if requirement.mode == "any":
        if satisfied:
            return True, evidence, [], set()
        return (None if unknown_sources else False), evidence, missing, unknown_sources
    if missing:
        return False, evidence, missing, set()
    return (None if unknown_sources else True), evidence, [], unknown_sources


def _too_slow(rule: Rule, exc: MatchTimeoutError, required: bool) -> Finding:
    """A pattern ran out of matching time: the rule could not be checked (never a pass). Its
    message says the policy needs fixing; a required rule's evidence says that installed and
    running are unknown, like any required rule that could not be checked."""
    message = text("software.pattern_too_slow", pattern=exc.pattern)
    evidence: dict[str, object] = {"pattern": exc.pattern}
    if required:
        evidence.update(installed=None, running=None)
    return could_not_check(rule, CATEGORY, message, evidence, Cause.FAILED, str(exc))


def evaluate_required(rule: RequiredSoftwareRule, inventory: Inventory, platform: str) -> Finding:
    try:
        return _evaluate_required(rule, inventory, platform)
    except MatchTimeoutError as exc:
        return _too_slow(rule, exc, required=True)


def evaluate_forbidden(rule: ForbiddenSoftwareRule, inventory: Inventory, platform: str) -> Finding:
    try:
        return _evaluate_forbidden(rule, inventory, platform)
    except MatchTimeoutError as exc:
        return _too_slow(rule, exc, required=False)


def _evaluate_required(rule: RequiredSoftwareRule, inventory: Inventory, platform: str) -> Finding:
    skipped = not_applicable_here(rule, CATEGORY, platform)
    if skipped:
        return skipped
    if inventory.software is None:
        # Neither installed nor running is known: the keys say so (null), which is also how
        # the server tells a required-software rule from a forbidden one whatever its status.
        unknown = {"installed": None, "running": None}
        return facts_missing(rule, CATEGORY, "software", inventory, unknown)
    packages = matching_packages(rule.match, inventory.software)
    evidence: dict[str, object] = {
        "installed": bool(packages),
        "packages": _package_evidence(packages),
    }
    if not packages:
        evidence["running"] = False
        return Finding.of(rule, CATEGORY, Status.FAIL, text("required.missing"), evidence)
    names = _package_names(packages)
    if rule.must_run is None:
        return Finding.of(
            rule, CATEGORY, Status.PASS, text("required.installed", packages=names), evidence
        )
    running, run_evidence, missing, unknown_sources = _running_check(rule.must_run, inventory)
    evidence.update(run_evidence)
    evidence["running"] = running
    if running is None:
        reason, cause = unavailable(inventory, unknown_sources)
        message = text("required.run_unknown", packages=names, cause=text(f"cause.{cause.value}"))
        return could_not_check(rule, CATEGORY, message, evidence, cause, reason)
    if not running:
        evidence["not_running"] = missing
        message = text("required.not_running", packages=names, missing=", ".join(missing))
        return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    return Finding.of(rule, CATEGORY, Status.PASS, text("required.ok", packages=names), evidence)


def _evaluate_forbidden(
    rule: ForbiddenSoftwareRule, inventory: Inventory, platform: str
) -> Finding:
    skipped = not_applicable_here(rule, CATEGORY, platform)
    if skipped:
        return skipped
    found: list[str] = []
    evidence: dict[str, object] = {}
    incomplete: list[str] = []  # the sources that could not be read
    if rule.match:
        if inventory.software is None:
            incomplete.append("software")
        else:
            packages = matching_packages(rule.match, inventory.software)
            evidence["packages"] = _package_evidence(packages)
            found.extend(f"{p.name} {p.version}".strip() for p in packages)
    if rule.processes:
        if inventory.processes is None:
            incomplete.append("processes")
        else:
            hits = [
                p for p in inventory.processes if any(process_matches(r, p) for r in rule.processes)
            ]
            evidence["processes"] = [{"pid": p.pid, "name": p.name, "exe": p.exe} for p in hits]
            found.extend(f"{p.name} (pid {p.pid})" for p in hits)
    if found:
        message = text("forbidden.found", items=", ".join(found[:10]))
        return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    if incomplete:
        reason, cause = unavailable(inventory, incomplete)
        message = text("forbidden.unknown", cause=text(f"cause.{cause.value}"))
        return could_not_check(rule, CATEGORY, message, evidence, cause, reason)
    return Finding.of(rule, CATEGORY, Status.PASS, text("forbidden.none"), evidence)

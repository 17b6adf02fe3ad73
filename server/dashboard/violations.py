"""Failing findings in scope, grouped by rule: how many hosts, since when, how severe; and
apart from them, how many hosts could not be checked against the rule.

One GROUP BY over the failing and erring rows of LatestFinding (indexed by status and rule).
A rule's severity and category come from the policy, so every host reports the same ones;
should two policy versions disagree, the highest severity is shown. A host where a rule could
not be checked is no violation, but neither is it a pass: a rule that only errs is listed too.

Each group is named by what is wrong ("未安装或未运行：终端安全审计客户端"), not by the
rule's title, which states the requirement: the words come from one failing row's evidence
(fetched by primary key, one query for the page) and, for required software, from whether the
failing hosts lack the client, do not run it, or both. A rule that fails nowhere (it only
could not be checked) says so: "未能检查：终端安全审计客户端".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Max, Min, Q, QuerySet, Value, When

from agent.i18n import LocalText
from agent.problem_text import not_checked, what_is_wrong_with_rule
from server.dashboard.labels import SEVERITY_RANK
from server.fleet.models import HostStatus, LatestFinding

FAIL = "fail"
ERROR = "error"
_RANK_TO_SEVERITY = {rank: name for name, rank in SEVERITY_RANK.items()}


@dataclass(frozen=True)
class RuleViolation:
    rule: str
    category: str
    severity: str
    title_zh: str
    title_en: str
    hosts: int  # failing it
    first_seen: dt.datetime | None  # the earliest time a host in scope started failing it
    last_seen: dt.datetime | None  # the latest report that still found it failing
    problem_zh: str = ""  # what is wrong, e.g. 未安装或未运行：终端安全审计客户端
    problem_en: str = ""
    unchecked: int = 0  # hosts where it could not be checked


def failing(findings: QuerySet[LatestFinding]) -> QuerySet[LatestFinding]:
    return findings.filter(status=FAIL).exclude(host__status=HostStatus.REVOKED)


def by_rule(findings: QuerySet[LatestFinding]) -> list[RuleViolation]:
    rank = Case(
        *(When(severity=name, then=Value(value)) for name, value in SEVERITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    failed = Q(status=FAIL)
    grouped = (
        findings.filter(status__in=(FAIL, ERROR))
        .exclude(host__status=HostStatus.REVOKED)
        .order_by()
        .values("rule")
        .annotate(
            host_count=Count("id", filter=failed),
            unchecked_count=Count("id", filter=Q(status=ERROR)),
            rank=Max(rank),
            category_any=Max("category"),
            title_zh_any=Max("title_zh"),
            title_en_any=Max("title_en"),
            first=Min("since", filter=failed),
            last=Max("last_seen", filter=failed),
            sample=Max("id", filter=failed),
            not_installed=Count("id", filter=failed & Q(installed=False)),
            installed_yes=Count("id", filter=failed & Q(installed=True)),
            required_rows=Count("id", filter=Q(required=True)),
        )
    )
    rows = list(grouped)
    samples = dict(
        LatestFinding.objects.filter(
            pk__in=[row["sample"] for row in rows if row["sample"] is not None]
        ).values_list("pk", "evidence")
    )
    violations = []
    for row in rows:
        title = LocalText(row["title_zh_any"], row["title_en_any"])
        installed = {False} if row["not_installed"] else set()
        installed |= {True} if row["installed_yes"] else set()
        problem = (
            what_is_wrong_with_rule(
                row["category_any"], title, samples.get(row["sample"]), installed
            )
            if row["host_count"]
            else not_checked(row["category_any"], title, row["required_rows"] > 0)
        )
        violations.append(
            RuleViolation(
                rule=row["rule"],
                category=row["category_any"],
                severity=_RANK_TO_SEVERITY.get(row["rank"], "info"),
                title_zh=row["title_zh_any"],
                title_en=row["title_en_any"],
                hosts=row["host_count"],
                first_seen=row["first"],
                last_seen=row["last"],
                problem_zh=problem.zh,
                problem_en=problem.en,
                unchecked=row["unchecked_count"],
            )
        )
    violations.sort(
        key=lambda item: (
            -SEVERITY_RANK.get(item.severity, 0),
            -item.hosts,
            -item.unchecked,
            item.rule,
        )
    )
    return violations


def hosts_failing(findings: QuerySet[LatestFinding], rule: str) -> QuerySet[LatestFinding]:
    return (
        failing(findings)
        .filter(rule=rule)
        .select_related("host", "host__unit")
        .order_by("host__hostname", "host__host_id")
    )

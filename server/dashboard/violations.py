"""Failing findings in scope, grouped by rule: how many hosts, since when, how severe.

One GROUP BY over the failing rows of LatestFinding (indexed by status and rule). A rule's
severity and category come from the policy, so every host reports the same ones; should two
policy versions disagree, the highest severity is shown.

Each group is named by what is wrong ("未安装或未运行：终端安全审计客户端"), not by the
rule's title, which states the requirement: the words come from one failing row's evidence
(fetched by primary key, one query for the page) and, for required software, from whether the
failing hosts lack the client, do not run it, or both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Max, Min, Q, QuerySet, Value, When

from agent.i18n import LocalText
from agent.problem_text import what_is_wrong_with_rule
from server.dashboard.labels import SEVERITY_RANK
from server.fleet.models import HostStatus, LatestFinding

FAIL = "fail"
_RANK_TO_SEVERITY = {rank: name for name, rank in SEVERITY_RANK.items()}


@dataclass(frozen=True)
class RuleViolation:
    rule: str
    category: str
    severity: str
    title_zh: str
    title_en: str
    hosts: int
    first_seen: dt.datetime  # the earliest time a host in scope started failing it
    last_seen: dt.datetime  # the latest report that still found it failing
    problem_zh: str = ""  # what is wrong, e.g. 未安装或未运行：终端安全审计客户端
    problem_en: str = ""


def failing(findings: QuerySet[LatestFinding]) -> QuerySet[LatestFinding]:
    return findings.filter(status=FAIL).exclude(host__status=HostStatus.REVOKED)


def by_rule(findings: QuerySet[LatestFinding]) -> list[RuleViolation]:
    rank = Case(
        *(When(severity=name, then=Value(value)) for name, value in SEVERITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    grouped = (
        failing(findings)
        .order_by()
        .values("rule")
        .annotate(
            host_count=Count("id"),
            rank=Max(rank),
            category_any=Max("category"),
            title_zh_any=Max("title_zh"),
            title_en_any=Max("title_en"),
            first=Min("since"),
            last=Max("last_seen"),
            sample=Max("id"),
            not_installed=Count("id", filter=Q(installed=False)),
            installed_yes=Count("id", filter=Q(installed=True)),
        )
    )
    rows = list(grouped)
    samples = dict(
        LatestFinding.objects.filter(pk__in=[row["sample"] for row in rows]).values_list(
            "pk", "evidence"
        )
    )
    violations = []
    for row in rows:
        title = LocalText(row["title_zh_any"], row["title_en_any"])
        installed = {False} if row["not_installed"] else set()
        installed |= {True} if row["installed_yes"] else set()
        problem = what_is_wrong_with_rule(
            row["category_any"], title, samples.get(row["sample"]), installed
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
            )
        )
    violations.sort(key=lambda item: (-SEVERITY_RANK.get(item.severity, 0), -item.hosts, item.rule))
    return violations


def hosts_failing(findings: QuerySet[LatestFinding], rule: str) -> QuerySet[LatestFinding]:
    return (
        failing(findings)
        .filter(rule=rule)
        .select_related("host", "host__unit")
        .order_by("host__hostname", "host__host_id")
    )

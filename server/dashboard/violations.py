"""Failing findings in scope, grouped by rule: how many hosts, since when, how severe.

One GROUP BY over the failing rows of LatestFinding (indexed by status and rule). A rule's
severity and category come from the policy, so every host reports the same ones; should two
policy versions disagree, the highest severity is shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Max, Min, QuerySet, Value, When

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


def failing(findings: QuerySet[LatestFinding]) -> QuerySet[LatestFinding]:
    return findings.filter(status=FAIL).exclude(host__status=HostStatus.REVOKED)


def by_rule(findings: QuerySet[LatestFinding]) -> list[RuleViolation]:
    rank = Case(
        *(When(severity=name, then=Value(value)) for name, value in SEVERITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    rows = (
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
        )
    )
    violations = [
        RuleViolation(
            rule=row["rule"],
            category=row["category_any"],
            severity=_RANK_TO_SEVERITY.get(row["rank"], "info"),
            title_zh=row["title_zh_any"],
            title_en=row["title_en_any"],
            hosts=row["host_count"],
            first_seen=row["first"],
            last_seen=row["last"],
        )
        for row in rows
    ]
    violations.sort(key=lambda item: (-SEVERITY_RANK.get(item.severity, 0), -item.hosts, item.rule))
    return violations


def hosts_failing(findings: QuerySet[LatestFinding], rule: str) -> QuerySet[LatestFinding]:
    return (
        failing(findings)
        .filter(rule=rule)
        .select_related("host", "host__unit")
        .order_by("host__hostname", "host__host_id")
    )

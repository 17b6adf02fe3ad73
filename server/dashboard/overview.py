"""The overview's figures for one unit's subtree, from denormalised state only.

    host counts      one GROUP BY over the subtree's hosts (counting.counts_by_unit), summed
                     for the unit and for each child unit (the ranking)
    required rules   one GROUP BY over the latest findings of required-software rules
                     (a partial index holds exactly those rows)
    rectifications   one aggregate over the subtree's notices
    trend            the unit's UnitDayStat rows for the chosen period (written by the rollup)
No page view reads report history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from server.accounts.models import Unit
from server.dashboard import access
from server.dashboard.counting import HostCounts, counts_by_unit, subtree_totals
from server.dashboard.models import UnitDayStat
from server.fleet.models import HostStatus, LatestFinding
from server.rectification.models import NOT_CLOSED, Rectification, Status

ERROR = "error"  # a finding's status when its rule could not be checked


@dataclass(frozen=True)
class RuleRate:
    """Install and running rate of one required-software rule over the hosts reporting it.

    A host where the rule could not be checked (its software list or process list could not
    be read) is "not verified": in the denominator, never among the installed or running.
    """

    rule: str
    title_zh: str
    title_en: str
    hosts: int
    installed: int
    running: int
    running_checked: bool  # False: the rule only asks for installation
    not_installed: int = 0  # known not to be installed
    not_running: int = 0  # known not to run (not installed, or installed and stopped)
    unverified: int = 0  # could not be checked

    @property
    def installed_rate(self) -> float | None:
        return self.installed / self.hosts if self.hosts else None

    @property
    def running_rate(self) -> float | None:
        return self.running / self.hosts if self.hosts and self.running_checked else None


@dataclass(frozen=True)
class RectificationCounts:
    open: int
    rechecked: int
    overdue: int


@dataclass(frozen=True)
class ChildFigures:
    unit: Unit
    counts: HostCounts


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    hosts: int
    compliant: int
    noncompliant: int
    silent: int | None
    unchecked: int = 0

    @property
    def rate(self) -> float | None:
        return self.compliant / self.hosts if self.hosts else None


@dataclass
class Overview:
    unit: Unit
    counts: HostCounts
    rules: list[RuleRate]
    rectifications: RectificationCounts
    children: list[ChildFigures]
    trend: list[TrendPoint]
    days: int
    revoked: int = 0
    categories: list[tuple[str, int]] = field(default_factory=list)


def _rule_titles(rules: list[str]) -> dict[str, tuple[str, str]]:
    """(title_zh, title_en) of each rule, from any one of its rows (the policy names it)."""
    titles: dict[str, tuple[str, str]] = {}
    for rule in rules:
        row = (
            LatestFinding.objects.filter(rule=rule, required=True)
            .values_list("title_zh", "title_en")
            .first()
        )
        titles[rule] = row or ("", "")
    return titles


def _rule_rates(request: HttpRequest, unit: Unit) -> list[RuleRate]:
    # Counts only, so the database answers from the covering partial index on
    # (host, rule, installed, running, status, required) without reading the findings
    # themselves (on PostgreSQL an index-only scan once autovacuum has visited the table).
    rows = list(
        access.findings(request)
        .filter(access.subtree_q(unit, "host__unit"), required=True)
        .exclude(host__status=HostStatus.REVOKED)
        .order_by()
        .values("rule")
        .annotate(  # counting "rule", not "id": the index holds it, not the id
            hosts=Count("rule"),
            installed_count=Count("rule", filter=Q(installed=True)),
            not_installed_count=Count("rule", filter=Q(installed=False)),
            running_count=Count("rule", filter=Q(running=True)),
            not_running_count=Count("rule", filter=Q(running=False)),
            # Installed, and whether it runs is known or could not be told: the rule asks.
            running_asked=Count(
                "rule", filter=Q(installed=True) & (Q(running__isnull=False) | Q(status=ERROR))
            ),
            unverified_count=Count("rule", filter=Q(status=ERROR)),
        )
        .order_by("rule")
    )
    titles = _rule_titles([row["rule"] for row in rows])
    return [
        RuleRate(
            rule=row["rule"],
            title_zh=titles[row["rule"]][0],
            title_en=titles[row["rule"]][1],
            hosts=row["hosts"],
            installed=row["installed_count"],
            running=row["running_count"],
            running_checked=row["running_asked"] > 0 or row["installed_count"] == 0,
            not_installed=row["not_installed_count"],
            not_running=row["not_running_count"],
            unverified=row["unverified_count"],
        )
        for row in rows
    ]


def _rectifications(request: HttpRequest, unit: Unit) -> RectificationCounts:
    notices = Rectification.objects.filter(host__unit__in=access.visible_units(request)).filter(
        access.subtree_q(unit, "host__unit")
    )
    today = timezone.localdate()
    figures = notices.aggregate(
        open=Count("id", filter=Q(status=Status.OPEN)),
        rechecked=Count("id", filter=Q(status=Status.RECHECKED)),
        overdue=Count("id", filter=Q(status__in=NOT_CLOSED, deadline__lt=today)),
    )
    return RectificationCounts(figures["open"], figures["rechecked"], figures["overdue"])


def _trend(unit: Unit, days: int) -> list[TrendPoint]:
    first = timezone.localdate() - dt.timedelta(days=days - 1)
    rows = UnitDayStat.objects.filter(unit=unit, day__gte=first).order_by("day")
    return [
        TrendPoint(row.day, row.hosts, row.compliant, row.noncompliant, row.silent, row.unchecked)
        for row in rows
    ]


def _children(unit: Unit, units: list[Unit], totals: dict[int, HostCounts]) -> list[ChildFigures]:
    children = [
        ChildFigures(child, totals[child.pk]) for child in units if child.parent_id == unit.pk
    ]

    def rank(child: ChildFigures) -> tuple[int, float, str]:
        rate = child.counts.rate
        return (rate is None, -(rate or 0.0), child.unit.name)

    return sorted(children, key=rank)


def overview(request: HttpRequest, unit: Unit, days: int) -> Overview:
    """The figures of `unit` (visible to the request's user: the caller checked)."""
    hosts = access.hosts(request).filter(access.subtree_q(unit))
    units = list(access.subtree_units(unit).only("id", "name", "path", "parent_id"))
    totals = subtree_totals([(u.pk, u.path) for u in units], counts_by_unit(hosts))
    counts = totals[unit.pk]
    result = Overview(
        unit=unit,
        counts=counts,
        rules=_rule_rates(request, unit),
        rectifications=_rectifications(request, unit),
        children=_children(unit, units, totals),
        trend=_trend(unit, days),
        days=days,
        revoked=hosts.filter(status=HostStatus.REVOKED).count(),
    )
    result.categories = [
        ("software", counts.software),
        ("media", counts.media),
        ("internet", counts.internet),
        ("asset", counts.asset),
    ]
    return result

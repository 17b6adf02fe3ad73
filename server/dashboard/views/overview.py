"""The overview of one unit's subtree: compliance, required software, violations by
category, silent hosts, rectifications, trend, and child units ranked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from server.accounts.models import Unit
from server.dashboard import access
from server.dashboard.overview import Overview
from server.dashboard.overview import overview as overview_figures
from server.dashboard.periods import TREND_DAYS


def _trend_data(figures: Overview) -> dict[str, object]:
    """The chart's series and labels, handed to overview.js through json_script."""
    return {
        "labels": {
            "rate": gettext("Compliance rate (%)"),
            "noncompliant": gettext("Non-compliant hosts"),
            "unchecked": gettext("Hosts that could not be checked"),
            "silent": gettext("Silent hosts"),
        },
        "days": [point.day.isoformat() for point in figures.trend],
        "rate": [
            round(point.rate * 100, 1) if point.rate is not None else None
            for point in figures.trend
        ],
        "noncompliant": [point.noncompliant for point in figures.trend],
        "unchecked": [point.unchecked for point in figures.trend],
        "silent": [point.silent for point in figures.trend],
    }


def _ancestors(request: HttpRequest, unit: Unit) -> list[Unit]:
    """The visible units above `unit`, the top first: the way back up."""
    paths = unit.ancestor_paths()[:-1]
    found = access.visible_units(request).filter(path__in=paths)
    return sorted(found, key=lambda item: len(item.path))


@login_required
@require_GET
def overview(request: HttpRequest, unit_id: int | None = None) -> HttpResponse:
    tops = sorted(access.top_units(request), key=lambda item: item.path)
    if unit_id is None:
        if not tops:
            return render(request, "dashboard/no_units.html")
        unit = tops[0]
    else:
        unit = access.unit_or_404(request, unit_id)
    try:
        days = int(request.GET.get("days", TREND_DAYS[0]))
    except ValueError:
        days = TREND_DAYS[0]
    if days not in TREND_DAYS:
        days = TREND_DAYS[0]
    figures = overview_figures(request, unit, days)
    last_update = figures.trend[-1].day if figures.trend else None
    return render(
        request,
        "dashboard/overview.html",
        {
            "figures": figures,
            "unit": unit,
            "ancestors": _ancestors(request, unit),
            "other_tops": [top for top in tops if top.pk != unit.pk],
            "trend_days": TREND_DAYS,
            "trend_data": _trend_data(figures),
            "trend_last_day": last_update,
        },
    )

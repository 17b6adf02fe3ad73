"""One host: identity and asset fields, latest findings with their evidence, removable
media and network from the last full report, report timeline, clone flag, rectifications,
and (for admins of its unit) the way to issue a rectification or ask for a re-check."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from server.dashboard import access
from server.dashboard.evidence import Node, tree
from server.dashboard.inventory import last_state
from server.dashboard.labels import FINDING_STATUS_RANK, SEVERITY_RANK
from server.fleet.models import LatestFinding, Report
from server.rectification.models import NOT_CLOSED, Rectification

TIMELINE = 50  # reports shown, newest first


@dataclass(frozen=True)
class FindingView:
    finding: LatestFinding
    evidence: Node


def _findings(rows: list[LatestFinding]) -> list[FindingView]:
    def order(row: LatestFinding) -> tuple[int, int, str]:
        status = FINDING_STATUS_RANK.get(row.status, 9)
        return (status, -SEVERITY_RANK.get(row.severity, 0), row.rule)

    return [FindingView(row, tree(row.evidence)) for row in sorted(rows, key=order)]


@login_required
@require_GET
def host_detail(request: HttpRequest, host_id: str) -> HttpResponse:
    host = access.host_or_404(request, host_id)
    findings = _findings(list(LatestFinding.objects.filter(host=host)))
    reports = Report.objects.filter(host=host).defer("envelope").order_by("-seq")[:TIMELINE]
    rectifications = Rectification.objects.filter(host=host, status__in=NOT_CLOSED).order_by(
        "deadline", "id"
    )
    return render(
        request,
        "dashboard/host.html",
        {
            "host": host,
            "findings": findings,
            "failing": sum(1 for item in findings if item.finding.status == "fail"),
            "state": last_state(host),
            "reports": list(reports),
            "report_count": Report.objects.filter(host=host).count(),
            "rectifications": list(rectifications),
            "can_act": access.administers(request, host.unit),
        },
    )

"""The asset register: duplicate and conflicting addresses and machine numbers, incomplete
records, and network neighbours that are not enrolled — with what the data cannot show."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from server.dashboard import access
from server.dashboard.assets import register


@login_required
@require_GET
def assets(request: HttpRequest) -> HttpResponse:
    unit = access.unit_or_404(request, request.GET["unit"]) if request.GET.get("unit") else None
    hosts = access.hosts(request)
    if unit is not None:
        hosts = hosts.filter(access.subtree_q(unit))
    return render(
        request,
        "dashboard/assets.html",
        {
            "unit": unit,
            "units": access.visible_units(request).only("id", "path"),
            "register": register(hosts),
        },
    )

"""Violations: failing findings in scope grouped by rule, each expandable to its hosts.

With `rule=<id>` the page lists that rule's failing hosts (paginated); the same list,
requested by htmx when a rule is expanded, comes back as a fragment of the first hosts.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from server.dashboard import access
from server.dashboard.labels import CATEGORIES, SEVERITIES
from server.dashboard.violations import by_rule, hosts_failing

PAGE_SIZE = 50
FRAGMENT_SIZE = 20


@login_required
@require_GET
def violations(request: HttpRequest) -> HttpResponse:
    query = request.GET
    unit = access.unit_or_404(request, query["unit"]) if query.get("unit") else None
    category = query.get("category", "")
    category = category if category in CATEGORIES else ""
    severity = query.get("severity", "")
    severity = severity if severity in SEVERITIES else ""
    rule = query.get("rule", "").strip()[:64]
    findings = access.findings(request)
    if unit is not None:
        findings = findings.filter(access.subtree_q(unit, "host__unit"))
    if category:
        findings = findings.filter(category=category)
    if severity:
        findings = findings.filter(severity=severity)
    context: dict[str, Any] = {
        "unit": unit,
        "category": category,
        "severity": severity,
        "rule": rule,
        "units": access.visible_units(request).only("id", "path"),
        "categories": CATEGORIES,
        "severities": SEVERITIES,
        "can_act": access.administers(request),
    }
    if rule:
        rows = hosts_failing(findings, rule)
        if request.headers.get("HX-Request") == "true":
            context.update(rows=rows[:FRAGMENT_SIZE], total=rows.count())
            return render(request, "dashboard/_partials/violation_hosts.html", context)
        context["page"] = Paginator(rows, PAGE_SIZE).get_page(query.get("page"))
        return render(request, "dashboard/violation_hosts.html", context)
    context["violations"] = by_rule(findings)
    return render(request, "dashboard/violations.html", context)

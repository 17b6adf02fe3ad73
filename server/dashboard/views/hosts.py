"""The hosts list: filters, search, sortable columns, 50 a page, all in the query string."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from agent import glossary
from server.dashboard import access
from server.dashboard.host_filters import PAGE_SIZE, HostFilters
from server.dashboard.labels import CATEGORIES, COMPLIANCE, STATUS_FILTERS, glossary_labels
from server.fleet.models import HostStatus

_FIELDS = glossary_labels(glossary.FIELDS)  # the words the agent's check sheet uses
COLUMNS = (  # (sort key, or "" when the column does not sort; heading; shown on tablets)
    ("hostname", _FIELDS["hostname"], True),
    ("unit", _FIELDS["unit"], True),
    ("", _("IP / MAC"), True),
    ("machine_number", _FIELDS["machine_number"], True),
    ("responsible_person", _FIELDS["responsible_person"], False),
    ("status", _("Status"), True),
    ("failed", _("Failing"), True),
    ("policy", _FIELDS["policy"], False),
    ("last_seen", _("Last report"), True),
)


def _policies(request: HttpRequest) -> list[tuple[str, str]]:
    """(filter value, label) of each policy version the hosts in scope report."""
    pairs = (
        access.hosts(request)
        .exclude(policy_id="")
        .exclude(status=HostStatus.REVOKED)
        .order_by("policy_id", "policy_version")
        .values_list("policy_id", "policy_version")
        .distinct()
    )
    options: list[tuple[str, str]] = []
    for policy_id, version in pairs:
        if not options or options[-1][0].partition("@")[0] != policy_id:
            options.append((policy_id, policy_id))
        options.append((f"{policy_id}@{version}", f"{policy_id} {version}"))
    return options


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    next_sort: str  # the sort a click on the heading asks for
    aria_sort: str  # "ascending" | "descending" | "" (not sorted by this column)
    narrow: bool  # shown on narrow (tablet) screens too


def _columns(sort: str) -> list[Column]:
    columns = []
    for key, heading, narrow in COLUMNS:
        aria = ""
        if key and sort.lstrip("-") == key:
            aria = "descending" if sort.startswith("-") else "ascending"
        next_sort = f"-{key}" if aria == "ascending" else key
        columns.append(Column(key, str(heading), next_sort, aria, narrow))
    return columns


@login_required
@require_GET
def hosts(request: HttpRequest) -> HttpResponse:
    filters = HostFilters.from_request(request)
    rows = filters.apply(access.hosts(request)).select_related("unit")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/hosts.html",
        {
            "filters": filters,
            "page": page,
            "columns": _columns(filters.sort),
            "units": access.visible_units(request).only("id", "path"),
            "statuses": STATUS_FILTERS,
            "compliance_choices": COMPLIANCE,
            "categories": CATEGORIES,
            "policies": _policies(request),
        },
    )

"""Spot checks: POST asks a host or a unit subtree to check again now; GET lists requests.

Who answered is read from the fleet's Command rows (answered_at), so the page shows what the
agents really did, not what was asked.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from server.accounts import scope
from server.accounts.scope import restrict
from server.administration.access import actor, require_admin_of
from server.dashboard.access import host_or_404, subtree_q, unit_or_404, user_of
from server.fleet.models import Command, Host
from server.rectification.forms import SpotCheckForm
from server.rectification.models import SpotCheck
from server.rectification.spot_checks import DEFAULT_HOURS, request_spot_check, with_progress

PAGE_SIZE = 30
HOSTS_PAGE_SIZE = 100


def _spot_checks(request: HttpRequest) -> QuerySet[SpotCheck]:
    return restrict(SpotCheck.objects.all(), user_of(request), "unit").select_related(
        "unit", "host", "requested_by"
    )


@login_required
@require_http_methods(["GET", "POST"])
def spot_checks(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _request(request)
    now = timezone.now()
    requests = with_progress(_spot_checks(request), now).order_by("-requested_at", "-id")
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    units = scope.units_administered_by(user_of(request)).order_by("path")
    return render(
        request,
        "rectification/spot_checks.html",
        {"page": page, "units": units, "form": SpotCheckForm(), "now": now},
    )


def _request(request: HttpRequest) -> HttpResponse:
    """1. find the host or unit in the user's scope (404); 2. admin role on it (403);
    3. create the commands, audited; 4. show the request."""
    form = SpotCheckForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Invalid spot-check request."))
    host_id, unit_id = form.cleaned_data["host_id"], form.cleaned_data["unit"]
    hours = form.cleaned_data["hours"] or DEFAULT_HOURS
    user = request.user
    if not isinstance(user, User):
        raise Http404("not signed in")
    if host_id:
        host = host_or_404(request, host_id)
        require_admin_of(request, host.unit)
        spot = request_spot_check(
            host.unit,
            host,
            Host.objects.filter(pk=host.pk),
            hours,
            user,
            actor(request),
            timezone.now(),
        )
    elif unit_id:
        unit = unit_or_404(request, unit_id)
        require_admin_of(request, unit)
        hosts = Host.objects.filter(subtree_q(unit, "unit"))
        spot = request_spot_check(unit, None, hosts, hours, user, actor(request), timezone.now())
    else:
        return HttpResponseBadRequest(_("Name a host or a unit."))
    asked = spot.commands.count()
    messages.success(request, _("Re-check requested from %(count)d host(s).") % {"count": asked})
    return redirect("rectification:spot_check", pk=spot.pk)


@login_required
@require_safe
def spot_check(request: HttpRequest, pk: int) -> HttpResponse:
    spot = _spot_checks(request).filter(pk=pk).first()
    if spot is None:
        raise Http404("no such spot check")
    now = timezone.now()
    progress = with_progress(SpotCheck.objects.filter(pk=spot.pk), now).get()
    commands = (
        Command.objects.filter(pk__in=spot.commands.values("pk"))
        .select_related("host", "host__unit")
        .order_by(F("answered_at").asc(nulls_first=True), "host__unit__path", "host__hostname")
    )
    show = request.GET.get("show", "")
    if show == "answered":
        commands = commands.filter(answered_at__isnull=False)
    elif show == "waiting":
        commands = commands.filter(answered_at__isnull=True)
    else:
        show = ""
    page = Paginator(commands, HOSTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "rectification/spot_check.html",
        {"spot": spot, "progress": progress, "page": page, "now": now, "show": show},
    )

"""Rectification notices: list, detail with history, issue from a violation, close, print.

Lookups go through `server.accounts.scope.restrict` (404 outside the user's subtree); acting
needs the admin role on the host's unit (403 otherwise), see server.administration.access.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from server.accounts.actors import actor_names
from server.accounts.scope import restrict
from server.administration.access import actor, require_admin_of
from server.dashboard.access import administers, host_or_404, subtree_q, unit_or_404, user_of
from server.dashboard.evidence import tree
from server.dashboard.hidden_text import reveal
from server.errors import AdminError
from server.fleet.models import LatestFinding
from server.lib.reader_language import reader_lang
from server.rectification import actions
from server.rectification.forms import STATUS_FILTERS, CloseForm, IssueForm
from server.rectification.models import NOT_CLOSED, Rectification, Status

PAGE_SIZE = 50
DEFAULT_DEADLINE_DAYS = 14


def _notices(request: HttpRequest) -> QuerySet[Rectification]:
    return restrict(Rectification.objects.all(), user_of(request), "host__unit").select_related(
        "host", "host__unit"
    )


def _notice_or_404(request: HttpRequest, pk: int) -> Rectification:
    notice = _notices(request).filter(pk=pk).first()
    if notice is None:
        raise Http404("no such rectification")
    return notice


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required let only real users through
        raise Http404("not signed in")
    return user


@login_required
@require_safe
def notice_list(request: HttpRequest) -> HttpResponse:
    """Filters (query string): status ("" = not closed, open, rechecked, closed, all),
    overdue=1, unit=<id> (its subtree), host=<host id>."""
    today = timezone.localdate()
    notices = _notices(request)
    status = request.GET.get("status", "")
    if status in (Status.OPEN, Status.RECHECKED, Status.CLOSED):
        notices = notices.filter(status=status)
    elif status != "all":
        status = ""
        notices = notices.filter(status__in=NOT_CLOSED)
    overdue = request.GET.get("overdue") == "1"
    if overdue:
        notices = notices.filter(status__in=NOT_CLOSED, deadline__lt=today)
    unit = None
    if request.GET.get("unit"):
        unit = unit_or_404(request, request.GET["unit"])
        notices = notices.filter(subtree_q(unit, "host__unit"))
    host_id = request.GET.get("host", "").strip()
    if host_id:
        notices = notices.filter(host__host_id=host_id)
    notices = notices.annotate(
        closed_last=Case(
            When(status=Status.CLOSED, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("closed_last", "deadline", "id")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "rectification/list.html",
        {
            "page": page,
            "today": today,
            "status": status,
            "status_choices": STATUS_FILTERS,
            "overdue": overdue,
            "unit": unit,
            "host_id": host_id,
        },
    )


@login_required
@require_safe
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    current = LatestFinding.objects.filter(host=notice.host, rule=notice.rule).first()
    events = list(notice.events.select_related("report"))
    names = actor_names(event.actor for event in events)
    return render(
        request,
        "rectification/detail.html",
        {
            "notice": notice,
            "events": [(event, names[event.actor]) for event in events],
            "evidence": tree(notice.evidence),
            "current": current,
            "rechecked": actions.rechecked_now(notice),
            "today": timezone.localdate(),
            "may_act": administers(request, notice.host.unit),
            "close_form": CloseForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def issue(request: HttpRequest) -> HttpResponse:
    """GET ?host=<host id>&rule=<rule>: the form, prefilled; POST (same fields) issues."""
    source = request.POST if request.method == "POST" else request.GET
    host = host_or_404(request, source.get("host", ""))
    require_admin_of(request, host.unit)
    rule = source.get("rule", "")
    finding = LatestFinding.objects.filter(host=host, rule=rule).first()
    if finding is None:
        raise Http404("no such finding")
    existing = actions.open_notice(host, rule)
    error = ""
    if request.method == "POST":
        form = IssueForm(request.POST)
        if form.is_valid():
            try:
                notice = actions.issue(
                    host,
                    rule,
                    form.cleaned_data["responsible_person"],
                    form.cleaned_data["deadline"],
                    form.cleaned_data["remark"],
                    _signed_in(request),
                    actor(request),
                    timezone.now(),
                )
            except AdminError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Rectification notice issued."))
                return redirect("rectification:detail", pk=notice.pk)
    else:
        deadline = timezone.localdate() + dt.timedelta(days=DEFAULT_DEADLINE_DAYS)
        remedy = finding.remedy_zh if _chinese_page(request) else finding.remedy_en
        # The agent's words prefill the form: shown, and stored if kept, with their hidden
        # characters made visible (server.dashboard.hidden_text), as on every page.
        form = IssueForm(
            initial={
                "responsible_person": reveal(host.responsible_person, as_html=False),
                "deadline": deadline,
                "remark": reveal(remedy, as_html=False),
            }
        )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "rectification/issue.html",
        {
            "host": host,
            "finding": finding,
            "existing": existing,
            "form": form,
            "error": error,
            "failing": finding.status == actions.FAILING,
        },
        status=status,
    )


def _chinese_page(request: HttpRequest) -> bool:
    return reader_lang() == "zh"


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    require_admin_of(request, notice.host.unit)
    form = CloseForm(request.POST)
    reason = form.cleaned_data["override_reason"] if form.is_valid() else ""
    try:
        actions.close(notice, reason, _signed_in(request), actor(request), timezone.now())
    except AdminError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The notice is closed."))
    return redirect("rectification:detail", pk=notice.pk)


@login_required
@require_safe
def print_notice(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    return render(
        request,
        "rectification/print.html",
        {
            "notice": notice,
            "requirement": notice.requirement(_chinese_page(request)),
            "today": timezone.localdate(),
        },
    )

"""Enrollment tokens: create (the clear token is on the response page once), list, revoke.

The clear token exists only in the response to the POST that created it: the database keeps
its SHA-256 (server.fleet.tokens), the page is sent with no-store, and nothing redirects to a
page that could show it again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from server.accounts import scope
from server.accounts.scope import restrict
from server.administration.access import actor, require_admin_of
from server.administration.forms import TokenForm
from server.dashboard.access import unit_or_404, user_of
from server.errors import AdminError
from server.fleet.models import EnrollmentToken
from server.fleet.tokens import create_token, revoke_token

PAGE_SIZE = 50


def _context(request: HttpRequest, form: TokenForm) -> dict[str, Any]:
    user = user_of(request)
    tokens = (
        restrict(EnrollmentToken.objects.all(), user, "unit")
        .select_related("unit", "created_by")
        .order_by("-created_at", "-id")
    )
    admin_units = list(scope.units_administered_by(user).order_by("path"))
    return {
        "page": Paginator(tokens, PAGE_SIZE).get_page(request.GET.get("page")),
        "form": form,
        "admin_units": admin_units,
        "admin_unit_ids": {unit.pk for unit in admin_units},
        "now": timezone.now(),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "administration/tokens.html", _context(request, TokenForm()))
    form = TokenForm(request.POST)
    if not form.is_valid():
        return render(request, "administration/tokens.html", _context(request, form), status=400)
    unit = unit_or_404(request, form.cleaned_data["unit"])
    require_admin_of(request, unit)
    user = request.user
    if not isinstance(user, User):
        raise Http404("not signed in")
    try:
        row, clear = create_token(
            unit,
            form.cleaned_data["uses"],
            form.cleaned_data["expires_days"],
            actor(request),
            form.cleaned_data["note"],
        )
    except AdminError as exc:
        form.add_error(None, str(exc))
        return render(request, "administration/tokens.html", _context(request, form), status=400)
    EnrollmentToken.objects.filter(pk=row.pk).update(created_by=user)
    context = _context(request, TokenForm())
    context.update({"created": row, "clear_token": clear})
    return render(request, "administration/tokens.html", context, status=201)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = restrict(EnrollmentToken.objects.all(), user_of(request), "unit").filter(pk=pk).first()
    if row is None:
        raise Http404("no such token")
    require_admin_of(request, row.unit)
    revoke_token(row.pk, actor(request))
    messages.success(request, _("Token %(id)s revoked.") % {"id": row.pk})
    return redirect("administration:tokens")

"""The audit log, scoped to the user's units, newest first, with the chain's status on top.

The chain is verified as a whole, but only a superuser reads its length and the entries' ids:
both count every unit's actions, and a unit admin's view of the log counts only what they may
read (issue 9, item 14).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from server.administration.audit_log import chain_status, visible_entries
from server.administration.audit_rows import ACTIONS, audit_rows
from server.dashboard.access import user_of

PAGE_SIZE = 100


@login_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    """Filters: action (exact, e.g. token.create), actor and q (text in the target)."""
    user = user_of(request)
    superuser = isinstance(user, User) and user.is_superuser
    visible = visible_entries(user)
    entries = visible.order_by("-id")
    action = request.GET.get("action", "").strip()[:64]
    who = request.GET.get("actor", "").strip()[:200]
    text = request.GET.get("q", "").strip()[:300]
    if action:
        entries = entries.filter(action=action)
    if who:
        entries = entries.filter(actor__icontains=who)
    if text:
        entries = entries.filter(target__icontains=text)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "administration/audit.html",
        {
            "page": page,
            "rows": audit_rows(page.object_list),
            "actions": sorted(
                ((code, str(words)) for code, words in ACTIONS.items()), key=lambda item: item[1]
            ),
            "chain": chain_status(),
            "visible_count": None if superuser else visible.count(),
            "superuser": superuser,
            "action": action,
            "who": who,
            "text": text,
        },
    )

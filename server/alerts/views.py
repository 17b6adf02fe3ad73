"""The alert settings page (`administration:alerts`) and one's own alert language.

Anyone with a role on a unit reads its settings and recent alerts; only its admins change
them (403 otherwise); units outside the user's subtree answer 404.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from server.accounts import audit, scope
from server.accounts.models import Membership, Role, Unit
from server.accounts.scope import restrict
from server.administration.access import actor, require_admin_of
from server.alerts import webhook_origin
from server.alerts.forms import LanguageForm, SettingsForm
from server.alerts.models import Alert, AlertLanguage, AlertSettings, Language
from server.dashboard.access import administers, subtree_q, tops_of, unit_or_404, user_of
from server.lib.ids import parse_id

RECENT_ALERTS = 50


def _user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise Http404("not signed in")
    return request.user


def _chosen_unit(request: HttpRequest) -> Unit:
    wanted = request.POST.get("unit") or request.GET.get("unit")
    if wanted:
        return unit_or_404(request, wanted)
    user = user_of(request)
    tops = tops_of(scope.units_administered_by(user)) or tops_of(scope.units_visible_to(user))
    if not tops:
        raise Http404("no unit")
    return tops[0]


@login_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest) -> HttpResponse:
    unit = _chosen_unit(request)
    current = AlertSettings.objects.filter(unit=unit).first() or AlertSettings(unit=unit)
    hidden = _hidden_webhook(request, current)
    status = 200
    if request.method == "POST":
        require_admin_of(request, unit)
        form = SettingsForm(request.POST, hidden_webhook=hidden)
        if form.is_valid():
            _save(request, form, current)
            messages.success(request, _("Alert settings of %(unit)s saved.") % {"unit": unit.path})
            return redirect(f"{reverse('administration:alerts')}?unit={unit.pk}")
        status = 400
    else:
        form = SettingsForm(
            initial=SettingsForm.initial_from(current, hidden), hidden_webhook=hidden
        )
    user = user_of(request)
    admins = (
        Membership.objects.filter(unit=unit, role=Role.ADMIN)
        .select_related("user")
        .order_by("user__username")
    )
    alerts = (
        restrict(Alert.objects.all(), user, "unit")
        .filter(subtree_q(unit, "unit"))
        .select_related("unit", "host")
        .prefetch_related("deliveries", "deliveries__target__unit")
        .order_by("-created_at", "-id")[:RECENT_ALERTS]
    )
    language = AlertLanguage.objects.filter(user=_user(request)).first()
    return render(
        request,
        "alerts/settings.html",
        {
            "unit": unit,
            "units": scope.units_visible_to(user).order_by("path"),
            "form": form,
            "may_act": administers(request, unit),
            "hidden_webhook": hidden,
            "admins": admins,
            "smtp_configured": bool(settings.EMAIL_HOST),
            "alerts": alerts,
            "language_form": LanguageForm(
                initial={"language": language.language if language else Language.ZH}
            ),
        },
        status=status,
    )


def _hidden_webhook(request: HttpRequest, row: AlertSettings) -> str:
    """ "" when the reader may see the whole webhook URL (there is none, or they set it and
    still administer the unit), else the part of it they are shown."""
    if not row.webhook_url:
        return ""
    user = request.user
    if row.webhook_set_by_id == user.pk and administers(request, row.unit):
        return ""
    return webhook_origin.shown(row.webhook_url)


def _save(request: HttpRequest, form: SettingsForm, row: AlertSettings) -> None:
    unit = row.unit
    with transaction.atomic():
        for name in ("email_enabled", "mode", "digest_hour"):
            setattr(row, name, form.cleaned_data[name])
        url = form.new_webhook_url(row.webhook_url)
        if url != row.webhook_url:
            row.webhook_url, row.webhook_set_by = url, _user(request) if url else None
        row.updated_at, row.updated_by = timezone.now(), _user(request)
        row.save()
        audit.record(
            actor(request),
            "alerts.settings",
            unit.path,
            {
                "unit": unit.path,
                "email": row.email_enabled,
                # The host only: a webhook URL's path or query often carries a secret.
                "webhook_host": urlsplit(row.webhook_url).hostname if row.webhook_url else None,
                "mode": row.mode,
                "digest_hour": row.digest_hour,
            },
        )


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Set the language of one's own alert e-mails (no unit involved: one's own preference)."""
    form = LanguageForm(request.POST)
    if form.is_valid():
        AlertLanguage.objects.update_or_create(
            user=_user(request), defaults={"language": form.cleaned_data["language"]}
        )
        audit.record(
            actor(request),
            "alerts.language",
            f"user:{_user(request).get_username()}",
            {"language": form.cleaned_data["language"]},
        )
        messages.success(request, _("Your alert language is saved."))
    back = parse_id(request.POST.get("unit", ""))
    suffix = f"?unit={back}" if back is not None else ""
    return redirect(reverse("administration:alerts") + suffix)

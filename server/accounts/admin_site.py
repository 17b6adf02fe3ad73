"""The Django admin site, signing in and out through the dashboard's own views.

Django's admin has its own login form; using it would step around the sign-in throttle and
the audit log. This site sends people to `accounts:login` instead (keeping `next`) and signs
out through `accounts:logout`'s view, so every sign-in and sign-out is throttled and audited
in one place. Installed by `admin_apps.CustosAdminConfig`, the admin app's documented way to
replace the default site.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from server.accounts.views import LogoutView


class CustosAdminSite(admin.AdminSite):
    site_header = _("Custos administration")
    site_title = _("Custos administration")
    index_title = _("Users, units and enrollment tokens")

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        query = urlencode({REDIRECT_FIELD_NAME: target})
        return HttpResponseRedirect(f"{reverse('accounts:login')}?{query}")

    # A redirect to the sign-in page, not the admin's "logged out" page: hence the override.
    def logout(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return LogoutView.as_view()(request)  # type: ignore[return-value]

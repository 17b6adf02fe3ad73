"""Signing in and out of the dashboard.

Django's own views do the work (CSRF, safe `next` redirects, session key rotation on sign-in,
session flush on sign-out); these add the sign-in throttle (`throttle`) and the audit log:
every sign-in, every sign-out and every time a throttle limit is reached is one entry.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import ngettext

from server.accounts import audit, throttle

LOGIN_TEMPLATE = "accounts/login.html"


def client_address(request: HttpRequest) -> str:
    """The address the connection came from (a reverse proxy's, behind one)."""
    return str(request.META.get("REMOTE_ADDR", ""))


class LoginView(auth_views.LoginView):
    template_name = LOGIN_TEMPLATE
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))
        wait = throttle.wait_seconds(username, client_address(request), timezone.now())
        if wait:
            return self._throttled(wait)
        return super().post(request, *args, **kwargs)

    def _throttled(self, wait: int) -> HttpResponse:
        minutes = max(1, (wait + 59) // 60)
        form = self.get_form()
        form.errors.clear()
        form.add_error(
            None,
            ngettext(
                "Too many failed sign-ins. Try again in %(minutes)d minute.",
                "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
        )
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        request = self.request
        username = str(request.POST.get("username", ""))
        address = client_address(request)
        if throttle.record_failure(username, address, timezone.now()):
            audit.record(
                "server",
                "user.login_throttled",
                throttle.normalise_username(username),
                {"address": address},
            )
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        throttle.clear(user.get_username())
        audit.record(
            f"user:{user.get_username()}",
            "user.login",
            user.get_username(),
            {"address": client_address(self.request)},
        )
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link or an image cannot sign anyone out."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            audit.record(
                f"user:{user.get_username()}",
                "user.logout",
                user.get_username(),
                {"address": client_address(request)},
            )
        return super().post(request, *args, **kwargs)

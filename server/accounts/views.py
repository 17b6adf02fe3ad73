"""Signing in and out of the dashboard.

Django's own views do the work (CSRF, safe `next` redirects, session key rotation on sign-in,
session flush on sign-out); these add the sign-in throttle (`throttle`), the known-device
cookie it trusts (`device_cookie`, renewed by every sign-in) and the audit log: every
sign-in, every sign-out and every throttle limit reached is one entry. Client addresses are
the ones `server.lib.client_address` works out behind trusted proxies.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import ngettext

from server.accounts import audit, device_cookie, throttle
from server.lib.client_address import client_address

LOGIN_TEMPLATE = "accounts/login.html"


def _attempt(request: HttpRequest, username: str) -> throttle.Attempt:
    name = throttle.normalise_username(username)
    return throttle.Attempt(
        username, client_address(request), device_cookie.device_of(request, name)
    )


class LoginView(auth_views.LoginView):
    template_name = LOGIN_TEMPLATE
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        attempt = _attempt(request, str(request.POST.get("username", "")))
        wait = throttle.wait_seconds(attempt, timezone.now())
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
        attempt = _attempt(self.request, str(self.request.POST.get("username", "")))
        for limit in throttle.record_failure(attempt, timezone.now()):
            details = {"address": attempt.client, "limit": limit.name}
            if attempt.device:
                details["device"] = attempt.device[:8]
            audit.record("server", "user.login_throttled", attempt.name, details)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        attempt = _attempt(self.request, user.get_username())
        throttle.record_success(attempt)
        audit.record(
            f"user:{user.get_username()}",
            "user.login",
            user.get_username(),
            {"address": attempt.client, "known_device": bool(attempt.device)},
        )
        response = super().form_valid(form)
        device_cookie.remember(self.request, response, attempt.name)
        return response


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

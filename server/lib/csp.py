"""Security headers Django's SecurityMiddleware does not set: Content-Security-Policy,
Permissions-Policy and Cross-Origin-Resource-Policy.

The dashboard runs on intranets and shows strings that agents (that is, anyone with a
machine) wrote. Autoescaping keeps those strings from becoming markup; the policy is the
second wall: scripts, styles, images and fonts only from this server, no inline script or
style, no eval, no plugins, no framing, forms post only here. Pages keep to it by design:
per-page JS and CSS files, data handed to scripts through `json_script`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

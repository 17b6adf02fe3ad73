"""Refusing NUL characters in the address and the form fields of dashboard requests.

No page of Custos has a use for U+0000, and PostgreSQL refuses it in every text value, so a
search for "a%00b" would otherwise reach the database and end as a 500 there. Refusing it at
the door, with a 400 that says why, keeps every view, the Django admin included, from having
to remember. The agent API (/api/) is left to its own checks: its bodies are JSON, which it
reads, cleans and refuses with its own JSON errors (docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase, QueryDict
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
NUL = "\x00"


def _carries_nul(values: QueryDict) -> bool:
    return any(NUL in key or any(NUL in value for value in items) for key, items in values.lists())


def has_nul(request: HttpRequest) -> bool:
    if NUL in request.path or _carries_nul(request.GET):
        return True
    return request.method == "POST" and _carries_nul(request.POST)


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(API_PREFIX) and has_nul(request):
            return HttpResponseBadRequest(
                _("The request contains a NUL character, which no field accepts."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)

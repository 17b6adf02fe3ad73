"""What every dashboard page's header needs: may this user act, and which section is open.

Evaluated lazily, so pages that do not show the header (or anonymous requests) cost no query.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from server.dashboard.access import administers


def navigation(request: HttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {}
    match = request.resolver_match
    return {
        "nav_can_act": SimpleLazyObject(lambda: administers(request)),
        "nav_section": match.view_name if match else "",
    }

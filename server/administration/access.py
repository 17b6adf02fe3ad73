"""Acting on the admin-action pages (rectification, spot checks, policies, tokens, alerts).

Reading goes through `server.dashboard.access` like every dashboard page: an object outside
the user's subtree answers 404, exactly like one that does not exist. Acting adds one rule,
here: after that lookup, the user must hold the admin role on the object's unit (or be a
superuser); an auditor, who may see it, gets 403. Every action is audited under `actor`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from server.accounts.models import Unit
from server.dashboard.access import administers


def actor(request: HttpRequest) -> str:
    """How the audit log names the person acting: "user:<name>"."""
    return f"user:{request.user.get_username()}"


def require_admin_of(request: HttpRequest, unit: Unit) -> None:
    """403 unless the user holds the admin role on `unit` (or above it)."""
    if not administers(request, unit):
        raise PermissionDenied("only an administrator of this unit may do this")

"""Template filters of the admin-action pages (rectification, administration, alerts).

Everything returned here is plain text: agents' strings stay hostile and the templates'
autoescaping handles them; nothing is marked safe.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User

from server.accounts.actors import person_name
from server.lib.reader_language import reader_lang

register = template.Library()


@register.filter
def in_language(obj: Any, field: str) -> str:
    """`obj.<field>_zh` or `obj.<field>_en`, whichever the page's language reads, falling back
    to the other when empty (agents always send both, notices copy both)."""
    first, second = ("zh", "en") if reader_lang() == "zh" else ("en", "zh")
    value = getattr(obj, f"{field}_{first}", "") or getattr(obj, f"{field}_{second}", "")
    return str(value)


@register.filter
def person(user: User | None) -> str:
    """How a page names a user: their full name, else their user name; "" for nobody."""
    return "" if user is None else person_name(user)


@register.filter
def query_without(querydict: Any, name: str) -> str:
    """The current query string minus `name` (for pagination links that keep the filters)."""
    copy = querydict.copy()
    copy.pop(name, None)
    encoded: str = copy.urlencode()
    return encoded

"""Template filters of the dashboard: language-picked texts, labels, rates, agent times, and
`reveal` for every string an agent wrote.

Every filter but `reveal` returns plain text; autoescaping applies to it like to any
variable, so what an agent wrote can never turn into markup through these. `reveal` escapes
the text itself and adds only its own spans around the characters it makes visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from server.dashboard import hidden_text, labels

register = template.Library()
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def language_suffix() -> str:
    """ "zh" or "en": which of a finding's two texts the reader gets."""
    return "zh" if (get_language() or "zh").lower().startswith("zh") else "en"


@register.filter
def local(item: Any, field: str) -> str:
    """`item.<field>_zh` or `item.<field>_en` (attribute or key) for the active language."""
    suffix = language_suffix()
    other = "en" if suffix == "zh" else "zh"
    for name in (f"{field}_{suffix}", f"{field}_{other}"):
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value:
            return str(value)
    return ""


@register.filter(needs_autoescape=True)
def reveal(value: object, mode: str = "", autoescape: bool = True) -> str:
    """Agent text with its hidden and direction-changing characters shown as "<U+XXXX>"
    (server.dashboard.hidden_text). `|reveal:"text"` inside attributes and <title>."""
    return hidden_text.reveal(value, as_html=autoescape and mode != "text")


@register.filter
def category_label(code: object) -> str:
    return labels.label(labels.CATEGORIES, code)


@register.filter
def severity_label(code: object) -> str:
    return labels.label(labels.SEVERITIES, code)


@register.filter
def finding_status_label(code: object) -> str:
    return labels.label(labels.FINDING_STATUSES, code)


@register.filter
def host_status_label(code: object) -> str:
    return labels.label(labels.HOST_STATUSES, code)


@register.filter
def report_kind_label(code: object) -> str:
    return labels.label(labels.REPORT_KINDS, code)


@register.filter
def percent(rate: float | None) -> str:
    """0.875 -> "87.5%"; no rate (nothing to count) -> "—"."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}%"


@register.filter
def agent_time(value: object) -> str:
    """An ISO 8601 time an agent wrote, in the server's time zone; other text as it is."""
    if not isinstance(value, str) or not value:
        return "" if value is None else str(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if timezone.is_naive(moment):
        return value
    return timezone.localtime(moment).strftime(TIME_FORMAT)


@register.filter
def local_time(value: dt.datetime | None) -> str:
    """A stored time in the server's time zone, ISO-like; "—" for none."""
    if value is None:
        return "—"
    return timezone.localtime(value).strftime(TIME_FORMAT)

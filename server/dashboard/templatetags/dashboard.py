"""Template filters of the dashboard: language-picked texts, the glossary's words for codes,
what is wrong with a failing finding, rates, times on the server's clock, and `reveal` for
every string an agent wrote.

Every filter but `reveal` returns plain text; autoescaping applies to it like to any
variable, so what an agent wrote can never turn into markup through these. `reveal` escapes
the text itself and adds only its own spans around the characters it makes visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import template

from agent import glossary
from agent.i18n import LocalText
from agent.problem_text import what_is_wrong
from server.dashboard import hidden_text, labels
from server.lib.local_time import local_text, parse_agent_time
from server.lib.reader_language import reader_lang

register = template.Library()


def _value(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


@register.filter
def local(item: Any, field: str) -> str:
    """`item.<field>_zh` or `item.<field>_en` (attribute or key) for the active language."""
    suffix = reader_lang()
    other = "en" if suffix == "zh" else "zh"
    for name in (f"{field}_{suffix}", f"{field}_{other}"):
        value = _value(item, name)
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


@register.simple_tag
def field_label(name: str) -> str:
    """The glossary's name of a check-sheet field ("machine_number" -> 机器编号), the same
    words the agent's sheet and the printed notice use."""
    return glossary.term(glossary.FIELDS, name, reader_lang())


def _words(table: glossary.Table, code: object) -> str:
    return glossary.term(table, code, reader_lang())


@register.filter
def purpose_label(code: object) -> str:
    return _words(glossary.PURPOSES, code)


@register.filter
def classification_label(code: object) -> str:
    return _words(glossary.CLASSIFICATIONS, code)


@register.filter
def platform_label(code: object) -> str:
    return _words(glossary.PLATFORMS, code)


@register.filter
def trigger_label(code: object) -> str:
    return _words(glossary.REPORT_TRIGGERS, code)


@register.filter
def interface_kind_label(code: object) -> str:
    return _words(glossary.INTERFACE_KINDS, code)


@register.filter
def usb_class_label(code: object) -> str:
    return _words(glossary.USB_CLASSES, code)


@register.filter
def history_source_label(code: object) -> str:
    return _words(glossary.MEDIA_HISTORY_SOURCES, code)


@register.filter
def problem(item: Any) -> str:
    """What is wrong, for a failing finding or a notice (anything with `category`,
    `title_zh`, `title_en` and `evidence`): "未安装：终端安全审计客户端（奇安信天擎）"."""
    title = LocalText(str(_value(item, "title_zh") or ""), str(_value(item, "title_en") or ""))
    wrong = what_is_wrong(str(_value(item, "category") or ""), title, _value(item, "evidence"))
    return wrong.get(reader_lang())


@register.filter
def percent(rate: float | None) -> str:
    """0.875 -> "87.5%"; no rate (nothing to count) -> "—"."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}%"


@register.filter
def agent_time(value: object) -> str:
    """An ISO 8601 time an agent wrote, in the server's time zone; other text as it is."""
    moment = parse_agent_time(value)
    if moment is not None:
        return local_text(moment)
    return "" if value is None else str(value)


@register.filter
def local_time(value: dt.datetime | None) -> str:
    """A stored time in the server's time zone, to the second; "—" for none."""
    return local_text(value)

"""Template filters of the admin-action pages (rectification, administration, alerts).

Everything returned here is plain text: agents' strings stay hostile and the templates'
autoescaping handles them; nothing is marked safe.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils import translation

register = template.Library()

_MAX_EVIDENCE_ROWS = 200
_MAX_VALUE_CHARS = 2000


def _chinese() -> bool:
    return (translation.get_language() or "zh-hans").lower().startswith("zh")


@register.filter
def in_language(obj: Any, field: str) -> str:
    """`obj.<field>_zh` or `obj.<field>_en`, whichever the page's language reads, falling back
    to the other when empty (agents always send both, notices copy both)."""
    first, second = ("zh", "en") if _chinese() else ("en", "zh")
    value = getattr(obj, f"{field}_{first}", "") or getattr(obj, f"{field}_{second}", "")
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…"


def _rows(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    if len(out) >= _MAX_EVIDENCE_ROWS:
        return
    if isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            _rows(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        for index, item in enumerate(value):
            _rows(item, f"{prefix}[{index}]", out)
    elif isinstance(value, list):
        out.append((prefix, ", ".join(_text(v) for v in value)))
    else:
        out.append((prefix, _text(value)))


@register.filter
def evidence_rows(evidence: Any) -> list[tuple[str, str]]:
    """A finding's evidence as (dotted key, value) rows for a two-column table."""
    out: list[tuple[str, str]] = []
    _rows(evidence, "", out)
    return [(key or "-", value) for key, value in out]


@register.filter
def query_without(querydict: Any, name: str) -> str:
    """The current query string minus `name` (for pagination links that keep the filters)."""
    copy = querydict.copy()
    copy.pop(name, None)
    encoded: str = copy.urlencode()
    return encoded

"""Making agent-supplied values safe to store in every database Custos supports.

JSON allows what databases refuse: NUL characters in strings (PostgreSQL's text and jsonb
reject them), lone surrogates such as U+D800 (not encodable as UTF-8, so neither SQLite nor
PostgreSQL takes them) and, through Python's parser, NaN and Infinity (jsonb rejects them).
Agent-supplied values reach the database only through these functions, so such input is
cleaned or refused as bad input instead of failing as a database error.
"""

from __future__ import annotations

import math
from typing import Any

from agent.protocol.errors import ProtocolError

MAX_LIST_ITEMS = 256
MAX_DEPTH = 64


def storable(text: str) -> str:
    """`text` without NUL characters, lone surrogates replaced by "?"."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def clean_text(value: Any, max_length: int) -> str:
    """A storable string cut to `max_length`; anything but a string becomes ""."""
    if not isinstance(value, str):
        return ""
    return storable(value)[:max_length]


def clean_text_list(value: Any, max_length: int) -> list[str]:
    """The strings of a list (others dropped), each cleaned, at most MAX_LIST_ITEMS of them."""
    if not isinstance(value, list):
        return []
    items = (clean_text(item, max_length) for item in value if isinstance(item, str))
    return [item for item in items if item][:MAX_LIST_ITEMS]


def clean_json(value: Any, reason: str, depth: int = 0) -> Any:
    """`value` with every string and key made storable; non-finite numbers are refused."""
    if depth > MAX_DEPTH:
        raise ProtocolError(reason, "JSON nested too deeply")
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(reason, "JSON numbers must be finite")
    if isinstance(value, list):
        return [clean_json(item, reason, depth + 1) for item in value]
    if isinstance(value, dict):
        return {
            storable(str(key)): clean_json(item, reason, depth + 1) for key, item in value.items()
        }
    return value

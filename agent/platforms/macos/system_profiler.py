"""Reading `system_profiler -json` reports: one list of item trees per data type.

Every data type answers the same way: a top-level key named after the type, holding a list of
dicts whose children sit under `_items`, with most values as strings ("yes", "0x0781  (SanDisk
Corporation)"). The helpers here only understand that envelope; what the keys inside mean is
the business of the module that asked for the data type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from agent.errors import CollectorError

SYSTEM_PROFILER = "/usr/sbin/system_profiler"
# system_profiler walks buses and disks; a busy USB tree can take several seconds.
SYSTEM_PROFILER_TIMEOUT = 60.0

Item = Mapping[str, Any]


def report_items(text: str, data_type: str) -> list[Item] | None:
    """The top-level items of one data type, or None when the report does not carry it.

    None (the type is unknown to this macOS) and [] (known, nothing in it) are different
    answers, and callers that fall back from one data type to another need to tell them apart.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectorError(f"system_profiler {data_type}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or data_type not in document:
        return None
    items = document[data_type]
    if not isinstance(items, list):
        return None
    return [item for item in items if isinstance(item, dict)]


def children(item: Item) -> list[Item]:
    nested = item.get("_items")
    if not isinstance(nested, list):
        return []
    return [child for child in nested if isinstance(child, dict)]


def walk(items: list[Item]) -> Iterator[Item]:
    """Every item of the trees, depth first, parents before their children."""
    for item in items:
        yield item
        yield from walk(children(item))


def text(item: Item, key: str) -> str:
    """A value as stripped text; system_profiler pads some strings ("USB3.0 Hub     ")."""
    value = item.get(key)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def integer(item: Item, key: str) -> int:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0

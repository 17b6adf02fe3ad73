"""Turning a finding's evidence (any JSON an agent sent) into something a person can read.

The template renders a small tree of nodes: a mapping becomes a definition list, a list of
objects with the same keys a table, other lists a bullet list, and values text. The tree is
built here with limits (depth, items), so a hostile or huge evidence object cannot make the
page deep or long; what is cut is counted and said. Nothing here produces markup: every text
is escaped by the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

MAX_DEPTH = 4
MAX_ITEMS = 50
MAX_TEXT = 500
MAX_COLUMNS = 8


@dataclass
class Node:
    kind: str  # "text" | "mapping" | "list" | "table"
    text: str = ""
    entries: list[tuple[str, Node]] = field(default_factory=list)  # mapping
    items: list[Node] = field(default_factory=list)  # list
    columns: list[str] = field(default_factory=list)  # table
    rows: list[list[Node]] = field(default_factory=list)  # table
    more: int = 0  # entries, items or rows left out


def _text(value: Any) -> Node:
    if value is True:
        return Node("text", gettext("yes"))
    if value is False:
        return Node("text", gettext("no"))
    if value is None:
        return Node("text", "—")
    text = value if isinstance(value, str) else str(value)
    return Node("text", text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…")


def _columns(items: list[Any]) -> list[str] | None:
    """The shared keys when every item is an object with a handful of the same keys."""
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    columns: list[str] = []
    for item in items:
        for key in item:
            if str(key) not in columns:
                columns.append(str(key))
    return columns if len(columns) <= MAX_COLUMNS else None


def tree(value: Any, depth: int = 0) -> Node:
    if not isinstance(value, (Mapping, list)):
        return _text(value)
    if depth >= MAX_DEPTH:
        return _text(gettext("(nested too deeply to show)"))
    if isinstance(value, Mapping):
        keys = list(value)
        node = Node("mapping", more=max(len(keys) - MAX_ITEMS, 0))
        node.entries = [(str(key), tree(value[key], depth + 1)) for key in keys[:MAX_ITEMS]]
        return node
    shown = value[:MAX_ITEMS]
    more = max(len(value) - MAX_ITEMS, 0)
    columns = _columns(shown)
    if columns is not None:
        rows = [[tree(item.get(column), depth + 1) for column in columns] for item in shown]
        return Node("table", columns=columns, rows=rows, more=more)
    return Node("list", items=[tree(item, depth + 1) for item in shown], more=more)

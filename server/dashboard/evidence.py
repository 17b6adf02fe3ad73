"""Turning a finding's evidence (any JSON an agent sent) into something a person can read.

The template renders a small tree of nodes: a mapping becomes a definition list, a list of
objects with the same keys a table, other lists a bullet list, and values text. The tree is
built here with limits (depth, items), so a hostile or huge evidence object cannot make the
page deep or long; what is cut is counted and said. Nothing here produces markup: every text
is escaped by the template.

Keys and coded values are the agent's (`installed: false`, `class: mass-storage`); the reader
gets the glossary's words for them (是否安装：未安装, 设备类别：移动存储) and times in the
server's time zone. A key or value the glossary does not know is shown as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext

from agent.glossary import evidence_key, evidence_value
from server.lib.local_time import MINUTE, local_text, parse_agent_time
from server.lib.reader_language import reader_lang

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


def _text(value: Any, key: str = "") -> Node:
    words = evidence_value(key, value, reader_lang())
    if words is not None:
        return Node("text", words)
    if value is None:
        return Node("text", "—")
    moment = parse_agent_time(value)
    if moment is not None:
        return Node("text", local_text(moment, MINUTE))
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


def tree(value: Any, depth: int = 0, key: str = "") -> Node:
    """The node for `value`, found under `key` (which says what a coded value means)."""
    if not isinstance(value, (Mapping, list)):
        return _text(value, key)
    if depth >= MAX_DEPTH:
        return _text(gettext("(nested too deeply to show)"))
    lang = reader_lang()
    if isinstance(value, Mapping):
        keys = list(value)
        node = Node("mapping", more=max(len(keys) - MAX_ITEMS, 0))
        node.entries = [
            (evidence_key(name, lang), tree(value[name], depth + 1, str(name)))
            for name in keys[:MAX_ITEMS]
        ]
        return node
    shown = value[:MAX_ITEMS]
    more = max(len(value) - MAX_ITEMS, 0)
    columns = _columns(shown)
    if columns is not None:
        rows = [[tree(item.get(column), depth + 1, column) for column in columns] for item in shown]
        headings = [evidence_key(column, lang) for column in columns]
        return Node("table", columns=headings, rows=rows, more=more)
    return Node("list", items=[tree(item, depth + 1, key) for item in shown], more=more)

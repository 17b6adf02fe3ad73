"""Text laid out in terminal columns, where a Chinese character takes two."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def labelled(rows: list[tuple[str, str]], gap: int = 2, min_width: int = 0) -> list[str]:
    """`label  value` lines, the values lined up after the widest label (or at `min_width`)."""
    width = max([display_width(label) + gap for label, _ in rows] + [min_width])
    return [f"{pad(label, width)}{value}" for label, value in rows]

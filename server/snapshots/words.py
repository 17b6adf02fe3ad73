"""The words the spreadsheets and the printable page use for coded values, Chinese first.

Bilingual rather than translated: a snapshot is read offline, months later, by people who
may not read the language the exporting admin chose.
"""

from __future__ import annotations

from typing import Any

RESULT = {
    "pass": "合格 pass",
    "fail": "不合格 fail",
    "error": "未能检查 could not be checked",
    "not_applicable": "不适用 n/a",
}
STATE = {
    "compliant": "合规 compliant",
    "noncompliant": "不合规 non-compliant",
    "unchecked": "未能检查 could not be checked",
    "unknown": "未知 unknown (no full report)",
}
NOTICE = {"open": "待整改 open", "rechecked": "已复查 re-checked", "closed": "已销号 closed"}


def word(table: dict[str, str], value: Any) -> str:
    """The words for `value`, or the value itself when the table has none."""
    if value is None:
        return ""
    return table.get(value, str(value)) if isinstance(value, str) else str(value)

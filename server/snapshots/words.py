"""The words the spreadsheets and the printable page use for coded values: Chinese, then
English, in one cell.

Bilingual rather than translated: a snapshot is read offline, months later, by people who
may not read the language the exporting admin chose. What agents report is named with the
glossary the check sheet and the dashboard use (`agent.glossary`), so the three never name
one thing two ways; the states only the server knows (a host's compliance state, a notice's
status) are named here, in the dashboard's words.
"""

from __future__ import annotations

from typing import Any

from agent import glossary


def _both(table: glossary.Table) -> dict[str, str]:
    return {code: f"{zh} {en}" for code, (zh, en) in table.items()}


RESULT = _both(glossary.STATUSES)
CATEGORY = _both(glossary.CATEGORIES)
SEVERITY = _both(glossary.SEVERITIES)
STATE = {
    "compliant": "合规 compliant",
    "noncompliant": "不合规 non-compliant",
    "unchecked": "未能检查 could not be checked",
    "unknown": "尚未上报 not yet reported",
}
NOTICE = {"open": "待整改 open", "rechecked": "已复查 re-checked", "closed": "已销号 closed"}


def word(table: dict[str, str], value: Any) -> str:
    """The words for `value`, or the value itself when the table has none."""
    if value is None:
        return ""
    return table.get(value, str(value)) if isinstance(value, str) else str(value)

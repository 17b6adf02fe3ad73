"""Reading a host record that nothing has vetted: accessors that never raise.

`verify` regenerates the spreadsheets and the page from whatever snapshot.json holds, which
may be anything a forger wrote. The derived members read records only through these, so a
record of the wrong shape yields empty cells (and a difference that verify reports), never
an exception; for the records `create` writes they return the values as they are.

Records are parsed JSON, so an object is a `dict` (checked as such: `isinstance` against
`Mapping` cost more than the rest of the page).
"""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]


def at(value: Any, *keys: str) -> Any:
    """`value[k1][k2]…`, or None where a step is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def objects(value: Any) -> list[Object]:
    """The objects of a list (other items skipped); [] for anything but a list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def text(value: Any) -> str:
    """A value as a person reads it in a cell: None as nothing, lists joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(text(item) for item in value)
    return str(value)


def rule_of(item: Object) -> str | None:
    rule = item.get("rule")
    return rule if isinstance(rule, str) else None


def by_rule(value: Any) -> dict[str | None, Object]:
    """The objects of a list by their "rule" (a rectification per rule)."""
    return {rule_of(item): item for item in objects(value) if rule_of(item) is not None}

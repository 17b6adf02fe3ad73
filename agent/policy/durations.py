"""Durations as policies write them: a whole number and one unit, `30s`, `5m`, `1h`, `30d`.

One unit and no fractions keep the text unambiguous for the people who read a policy, and the
same pattern is what editors check against through the JSON Schema. The agent schedules and
times out in seconds, so that is what the loader turns them into.
"""

from __future__ import annotations

import re

# The JSON Schema pattern (ECMA-262 flavour, also valid for Python's `re`).
DURATION_PATTERN = r"^[0-9]+[smhd]$"
DURATION_EXAMPLES = ("30s", "5m", "1h", "30d")

_DURATION = re.compile(r"([0-9]+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """The number of seconds `text` stands for; ValueError when it is not a duration."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as {', '.join(DURATION_EXAMPLES)}")
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def format_duration(seconds: int) -> str:
    """The way a policy would write `seconds`: the largest unit that divides it (90 -> "90s")."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"

"""Reading a database id out of text that came with a request.

`int()` is the wrong tool for this: it accepts what no form or link of Custos ever writes
(" 7 ", "1_000", "٣" and other Unicode digits), while `str.isdigit()` accepts characters that
`int()` then refuses ("²"), which is how `isdigit` followed by `int` answered 500. An id here
is what the database hands out: ASCII decimal digits, no sign, no leading zero, within a
64-bit primary key. Anything else is no id, which callers answer like an id that names
nothing (404, or the default they fall back to).
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1  # BigAutoField
_DIGITS = re.compile(r"[1-9][0-9]{0,18}")


def parse_id(text: object) -> int | None:
    """The id written in `text` (a str or an int), or None when it is not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 1 <= text <= MAX_ID else None
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None

"""Showing characters that would hide or reorder text, instead of letting them act.

Agents (anyone with a PC) write hostnames, asset fields, software names and finding texts
that the pages show. Escaping keeps such text from becoming markup, but some characters act
without markup: a right-to-left override (U+202E) displays "pc‮exe.fdp" as "pcpdf.exe",
isolates and embeddings reorder what follows, zero-width characters make two different names
look the same, a line separator breaks a line. `reveal` replaces each with a visible
"<U+202E>" (in a `hidden-char` span, styled apart from the text around it), so a page shows
what the agent sent in the order it sent it.

Which characters: every format control (Unicode category Cf: the bidi controls U+202A–202E,
U+2066–2069, U+200E/200F, U+061C, the zero-width U+200B–200D, U+2060, U+FEFF, tags, ...), the
line and paragraph separators (Zl, Zp), the C0 and C1 controls except tab, line feed and
carriage return, and the fillers that render as nothing (U+034F, U+115F, U+1160, U+3164,
U+FFA0). The list is spelt out rather than computed from `unicodedata` at start-up; a test
compares it with Python's Unicode database.

Right-to-left *letters* (Arabic, Hebrew) are text, and stay as they are.
"""

from __future__ import annotations

import functools
import re

from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

_RANGES = (
    (0x0000, 0x0008),
    (0x000B, 0x000C),
    (0x000E, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0x3164, 0x3164),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_HIDDEN = re.compile("[" + "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in _RANGES) + "]")
CSS_CLASS = "hidden-char"


@functools.cache
def hidden_characters() -> frozenset[str]:
    return frozenset(chr(point) for start, end in _RANGES for point in range(start, end + 1))


def code_point(character: str) -> str:
    return f"<U+{ord(character):04X}>"


def reveal(value: object, as_html: bool = True) -> str:
    """`value` as text with each hidden character replaced by "<U+XXXX>": as escaped HTML
    with the marks in styled spans (`as_html`), or as plain text for attributes, titles and
    anything not HTML. Text without such characters comes back unchanged, to be escaped
    by the template like any other value."""
    text = "" if value is None else str(value)  # str() of a SafeString is itself
    if not _HIDDEN.search(text):
        return text
    if not as_html:
        return _HIDDEN.sub(lambda match: code_point(match.group()), text)
    already_safe = isinstance(value, SafeData)
    pieces: list[str] = []
    position = 0
    for match in _HIDDEN.finditer(text):
        pieces.append(_escaped(text[position : match.start()], already_safe))
        mark = conditional_escape(code_point(match.group()))
        pieces.append(f'<span class="{CSS_CLASS}">{mark}</span>')
        position = match.end()
    pieces.append(_escaped(text[position:], already_safe))
    return mark_safe("".join(pieces))  # noqa: S308  (every piece escaped above)


def _escaped(piece: str, already_safe: bool) -> str:
    return piece if already_safe else str(conditional_escape(piece))

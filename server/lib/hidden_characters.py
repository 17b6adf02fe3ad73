"""The characters that hide or reorder text, and how they are shown instead: "<U+202E>".

Agents (anyone with a PC) write hostnames, asset fields, software names and finding texts
that pages and printed snapshots show. Escaping keeps such text from becoming markup, but
some characters act without markup: a right-to-left override (U+202E) displays
"pc‮exe.fdp" as "pcpdf.exe", isolates and embeddings reorder what follows, zero-width
characters make two different names look the same, a line separator breaks a line. Wherever
such text is shown, each of these is replaced by its visible code point.

Which characters: every format control (Unicode category Cf: the bidi controls U+202A–202E,
U+2066–2069, U+200E/200F, U+061C, the zero-width U+200B–200D, U+2060, U+FEFF, tags, ...), the
line and paragraph separators (Zl, Zp), the C0 and C1 controls except tab, line feed and
carriage return, and the fillers that render as nothing (U+034F, U+115F, U+1160, U+3164,
U+FFA0). The list is spelt out rather than computed from `unicodedata` at start-up; a test
compares it with Python's Unicode database.

Right-to-left *letters* (Arabic, Hebrew) are text, and stay as they are.

Free of Django: the dashboard's `reveal` filter (server.dashboard.hidden_text) and the
snapshot's printable page, which `custos-server verify` regenerates offline, both use it.
"""

from __future__ import annotations

import functools
import re

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
# The character class of those ranges, to build patterns with.
HIDDEN_CLASS = "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end in _RANGES)
HIDDEN = re.compile(f"[{HIDDEN_CLASS}]")


@functools.cache
def hidden_characters() -> frozenset[str]:
    return frozenset(chr(point) for start, end in _RANGES for point in range(start, end + 1))


def code_point(character: str) -> str:
    return f"<U+{ord(character):04X}>"

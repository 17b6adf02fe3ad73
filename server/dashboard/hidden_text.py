"""Showing characters that would hide or reorder text, instead of letting them act.

Agents (anyone with a PC) write hostnames, asset fields, software names and finding texts
that the pages show. Escaping keeps such text from becoming markup, but some characters act
without markup: a right-to-left override (U+202E) displays "pc‮exe.fdp" as "pcpdf.exe",
isolates and embeddings reorder what follows, zero-width characters make two different names
look the same, a line separator breaks a line. `reveal` replaces each with a visible
"<U+202E>" (in a `hidden-char` span, styled apart from the text around it), so a page shows
what the agent sent in the order it sent it.

Which characters, and the "<U+XXXX>" they are shown as, is `server.lib.hidden_characters`
(free of Django, shared with the snapshot's printable page); this is the dashboard's side.
"""

from __future__ import annotations

from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

from server.lib.hidden_characters import HIDDEN as _HIDDEN
from server.lib.hidden_characters import code_point, hidden_characters

__all__ = ["CSS_CLASS", "code_point", "hidden_characters", "reveal"]
CSS_CLASS = "hidden-char"


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

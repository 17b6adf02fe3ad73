"""What a policy author must change when PyYAML cannot read the file, in their words.

PyYAML reports what its parser expected (`expected <block end>, but found '?'`), often on a
line after the real slip and in terms of tokens a person never wrote. Policy authors make a
handful of mistakes again and again: a tab, an item or key indented one space off, a quote or
bracket left open, a missing colon or the space after it, a colon inside an unquoted value, a
regex in double quotes. `explain` recognises those from the error and the source text around
it, points at the line where the change belongs, and says what to write there; anything else
keeps PyYAML's own words. Each explanation exists in Chinese and English (agent/i18n.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from agent.i18n import LocalText, text

_ITEM = re.compile(r"^(\s*)-(?:\s|$)")
_DASH_WITHOUT_SPACE = re.compile(r"^(\s*)-([^\s\-].*)$")
_KEY_WITHOUT_SPACE = re.compile(r"^(\s*(?:-\s+)?)([^\s:#'\"{}\[\],]+):([^\s:].*)$")
_KEY_AND_VALUE_WITHOUT_COLON = re.compile(r"^(\s*(?:-\s+)?)([\w.-]+)(?:\s+(.+))?$")
_KEY_WITH_VALUE = re.compile(r"^\s*(?:-\s+)?[^\s:#'\"][^:#]*?:\s+\S")
_BLOCK_TEXT = re.compile(r":\s*[|>][+-]?\d?\s*(?:#.*)?$")
_OPENING = {"[": "]", "{": "}"}
_CLOSING = {"]": "[", "}": "{"}


@dataclass(frozen=True)
class Explanation:
    line: int  # 1-based: where the author must change something
    reason: LocalText


def explain(error: yaml.MarkedYAMLError, source: str) -> Explanation:
    """The line to change and what to do there, for a syntax error PyYAML raised on `source`."""
    return _Diagnosis(error, source).explanation()


class _Diagnosis:
    def __init__(self, error: yaml.MarkedYAMLError, source: str) -> None:
        self.error = error
        self.lines = source.splitlines()
        self.source = source
        self.problem = error.problem or ""
        self.context = error.context or ""
        mark = error.problem_mark or error.context_mark
        self.line = mark.line + 1 if mark else 1
        self.column = mark.column if mark else 0
        context_mark = error.context_mark
        self.context_line = context_mark.line + 1 if context_mark else self.line
        self.context_column = context_mark.column if context_mark else 0

    def explanation(self) -> Explanation:
        for rule in (
            self._tab,
            self._escape,
            self._quote_never_closed,
            self._quote_closed_on_a_later_line,
            self._dash_without_space,
            self._alias,
            self._reserved_first_character,
            self._block_text,
            self._flow_collection,
            self._stray_closing_bracket,
            self._missing_colon,
            self._colon_in_value,
            self._indentation,
        ):
            found = rule()
            if found is not None:
                return found
        detail = f"{self.context}: {self.problem}" if self.context else self.problem
        return Explanation(self.line, text("yaml.other", detail=detail or "?"))

    # --- the source around the error ----------------------------------------------------

    def text_of(self, line: int) -> str:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    def previous_content_line(self, line: int) -> int | None:
        """The nearest line above `line` that holds more than blanks and a comment."""
        for number in range(line - 1, 0, -1):
            stripped = self.text_of(number).strip()
            if stripped and not stripped.startswith("#"):
                return number
        return None

    # --- the rules, most specific first -------------------------------------------------

    def _tab(self) -> Explanation | None:
        if "'\\t'" in self.problem or "\t" in self.problem:
            return Explanation(self.line, text("yaml.tab"))
        return None

    def _escape(self) -> Explanation | None:
        if "double-quoted scalar" in self.context and "escape" in self.problem:
            return Explanation(self.line, text("yaml.escape"))
        return None

    def _quote_never_closed(self) -> Explanation | None:
        if "quoted scalar" not in self.context or "end of stream" not in self.problem:
            return None
        quote = self.text_of(self.context_line)[self.context_column : self.context_column + 1]
        return Explanation(self.context_line, text("yaml.unclosed_quote", quote=quote or '"'))

    def _quote_closed_on_a_later_line(self) -> Explanation | None:
        """`title: 'abc` then `version: '1'`: the first quote ends at the second one, and the
        parser trips over what follows it. A quoted value in a policy fits on its line, so
        one that ends on the error's line after starting above it was never closed."""
        try:
            for token in yaml.scan(self.source, Loader=yaml.SafeLoader):
                start, end = token.start_mark.line + 1, token.end_mark.line + 1
                if start > self.line:
                    break
                style = token.style if isinstance(token, yaml.ScalarToken) else None
                if style in ("'", '"') and start < end == self.line:
                    return Explanation(start, text("yaml.unclosed_quote", quote=style))
        except yaml.YAMLError:
            pass  # the scanner stops at the error (or before it): what it saw is all there is
        return None

    def _dash_without_space(self) -> Explanation | None:
        """`-id: a` is a key named "-id", and the next line's indentation then looks wrong."""
        candidates = [self.line, self.previous_content_line(self.line)]
        for number in candidates:
            if number is None:
                continue
            match = _DASH_WITHOUT_SPACE.match(self.text_of(number))
            if match and ":" in match.group(2):
                suggestion = f"- {match.group(2).strip()}"
                return Explanation(number, text("yaml.dash_space", suggestion=suggestion))
        return None

    def _alias(self) -> Explanation | None:
        if "undefined alias" not in self.problem and "scanning an alias" not in self.context:
            return None
        line = self.text_of(self.line)
        star = line.find("*", self.column if line[self.column : self.column + 1] == "*" else 0)
        value = re.match(r"\*[^\s,\]}]*", line[star:]) if star >= 0 else None
        suggestion = f"'{value.group(0)}'" if value else "'*'"
        return Explanation(self.line, text("yaml.alias", suggestion=suggestion))

    def _reserved_first_character(self) -> Explanation | None:
        if "scanning an anchor" in self.context:  # `name: & x`: '&' names an anchor
            return Explanation(self.line, text("yaml.reserved_start", char="&"))
        match = re.match(r"found character '(.)' that cannot start any token", self.problem)
        if match is None:
            return None
        return Explanation(self.line, text("yaml.reserved_start", char=match.group(1)))

    def _block_text(self) -> Explanation | None:
        if "scanning a block scalar" in self.context:
            return Explanation(self.line, text("yaml.block_indicator"))
        if "could not find expected ':'" not in self.problem:
            return None
        above = self.previous_content_line(self.context_line)
        if above is not None and _BLOCK_TEXT.search(self.text_of(above)):
            key = _key_of(self.text_of(above))
            return Explanation(self.context_line, text("yaml.block_text_indent", name=key))
        return None

    def _flow_collection(self) -> Explanation | None:
        match = re.search(r"flow (sequence|mapping)", self.context)
        if match is None:
            return None
        opening = "[" if match.group(1) == "sequence" else "{"
        closing = _OPENING[opening]
        opened_line = self.text_of(self.context_line)
        unclosed = "<stream end>" in self.problem or (
            self.line != self.context_line and closing not in opened_line[self.context_column :]
        )
        if unclosed:
            reason = text("yaml.unclosed_bracket", opening=opening, closing=closing)
            return Explanation(self.context_line, reason)
        return Explanation(self.line, text("yaml.flow_entry", opening=opening, closing=closing))

    def _stray_closing_bracket(self) -> Explanation | None:
        match = re.search(r"but found '([\]}])'", self.problem)
        if match is None:
            return None
        closing = match.group(1)
        reason = text("yaml.stray_closing", opening=_CLOSING[closing], closing=closing)
        return Explanation(self.line, reason)

    def _missing_colon(self) -> Explanation | None:
        if "could not find expected ':'" in self.problem:
            return self._key_line_without_colon(self.context_line)
        if "mapping values are not allowed" in self.problem:
            # `id = x` then `version: "1"`: the first line, having no colon, runs on into the
            # second as one long plain value, and the second line's colon is the surprise.
            above = self.previous_content_line(self.line)
            if above is not None and ":" not in self.text_of(above).split("#")[0]:
                return self._key_line_without_colon(above)
        return None

    def _key_line_without_colon(self, line: int) -> Explanation:
        source = self.text_of(line)
        glued = _KEY_WITHOUT_SPACE.match(source)
        if glued:
            suggestion = f"{glued.group(2)}: {glued.group(3).strip()}"
            return Explanation(line, text("yaml.space_after_colon", suggestion=suggestion))
        spaced = _KEY_AND_VALUE_WITHOUT_COLON.match(source)
        if spaced:
            key, value = spaced.group(2), (spaced.group(3) or "").strip()
            if value.startswith(":"):  # `version :'1'`
                suggestion = f"{key}: {value[1:].strip()}"
                return Explanation(line, text("yaml.space_after_colon", suggestion=suggestion))
            value = value[1:].strip() if value.startswith("=") else value  # `id = x`
            suggestion = f"{key}: {value or '…'}"
            return Explanation(line, text("yaml.missing_colon", suggestion=suggestion))
        return Explanation(line, text("yaml.not_key_value"))

    def _colon_in_value(self) -> Explanation | None:
        """`title: Note: important`: the second colon starts a mapping inside a value."""
        if "mapping values are not allowed" not in self.problem:
            return None
        line = self.text_of(self.line)
        before = line[: self.column]
        if not _KEY_WITH_VALUE.match(before):
            return None
        key, _, value = line.partition(":")
        value = value.strip()
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        suggestion = f"{key.strip()}: {quoted}"
        return Explanation(self.line, text("yaml.colon_in_value", suggestion=suggestion))

    def _indentation(self) -> Explanation | None:
        indentation_errors = ("expected <block end>", "mapping values are not allowed")
        if not any(problem in self.problem for problem in indentation_errors):
            return None
        line = self.text_of(self.line)
        if line.lstrip().startswith(":"):
            return Explanation(self.line, text("yaml.missing_key"))
        if "<scalar>" in self.problem and line[: self.column].rstrip().endswith(("'", '"')):
            return Explanation(self.line, text("yaml.text_after_quote"))
        if _ITEM.match(line):
            return self._item_indentation()
        return self._key_indentation()

    def _item_indentation(self) -> Explanation:
        line = self.text_of(self.line)
        indent = _indent(line)
        lowest = indent
        for number in range(self.line - 1, 0, -1):
            above = self.text_of(number)
            if not above.strip() or above.lstrip().startswith("#"):
                continue
            if _ITEM.match(above):
                if _indent(above) != indent:
                    reason = text(
                        "yaml.item_indented_differently", column=_indent(above) + 1, line=number
                    )
                    return Explanation(self.line, reason)
                break
            lowest = min(lowest, _indent(above))
            if lowest < indent:
                break  # out of the block this item could belong to
        above_number = self.previous_content_line(self.line)
        above = self.text_of(above_number) if above_number else ""
        if above and not _ITEM.match(above) and _indent(above) == indent:
            return Explanation(self.line, text("yaml.item_among_keys"))
        return Explanation(self.line, text("yaml.other", detail=self.problem))

    def _key_indentation(self) -> Explanation:
        """Line this key up with the key it most likely belongs beside.

        The keys a line may line up with are the line above it and that line's parents,
        each less indented than the one before; the nearest column wins, the deeper one on a
        tie (a key after a list item's first key mostly belongs to that item)."""
        line = self.text_of(self.line)
        indent = _indent(line)
        candidates: list[tuple[int, int]] = []  # (key column, line)
        for number in range(self.line - 1, 0, -1):
            above = self.text_of(number)
            if not above.strip() or above.lstrip().startswith("#"):
                continue
            if _ITEM.match(above) and ":" not in above:
                continue  # an item that is a plain value takes no keys beside it
            column = _key_column(above)
            if not candidates or column < candidates[-1][0]:
                candidates.append((column, number))
            if column == 0:
                break
        if not candidates:
            return Explanation(self.line, text("yaml.other", detail=self.problem))
        column, number = min(candidates, key=lambda c: (abs(c[0] - indent), -c[0]))
        message = "yaml.indented_more" if indent > column else "yaml.indented_differently"
        reason = text(
            message,
            name=_key_of(line),
            other=_key_of(self.text_of(number)),
            line=number,
            column=column + 1,
        )
        return Explanation(self.line, reason)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_column(line: str) -> int:
    """Where a line's key starts: after the "- " of a list item, else after the indentation."""
    match = _ITEM.match(line)
    if match is None:
        return _indent(line)
    rest = line[match.end() :]
    return match.end() + len(rest) - len(rest.lstrip(" "))


def _key_of(line: str) -> str:
    """The key a line starts with, or its first word when it has no colon."""
    content = line.strip()
    if _ITEM.match(content):
        content = content[1:].strip()
    key, colon, _rest = content.partition(":")
    if colon:
        return key.strip()
    return content.split()[0] if content.split() else content

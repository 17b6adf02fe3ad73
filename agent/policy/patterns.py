"""Policy regexes, matched with a time limit so that no pattern can hang a check.

A policy names software, processes and services by case-insensitive Python regexes. Python's
`re` cannot be interrupted: a catastrophic pattern holds the interpreter (signal handlers
included) for as long as it takes, which for `^(\\S*?-?)*\\d$` on a long package name is
forever. So patterns are compiled with `regex` (mrab-regex: the same syntax, a drop-in for
`re`, wheels for Linux amd64/arm64, Windows and macOS and a plain C source build elsewhere),
whose engine checks a timeout as it matches:

    - each search may take MATCH_TIMEOUT seconds;
    - within `match_budget(seconds)` (one evaluation, agent.evaluation) all searches together
      may take that long; when it is spent, every further search fails at once.

A search that runs out raises `MatchTimeoutError`; the evaluator makes the rule `error` (could not
be checked), never a pass. The loader refuses the known catastrophic shapes up front
(agent.policy.backtracking), so a timeout means a pattern that slipped past that check.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

import regex

from agent.errors import CustosError

MATCH_TIMEOUT = 0.5  # seconds for one search; a sane pattern takes microseconds
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "custos_match_deadline", default=None
)


class MatchTimeoutError(CustosError):
    """A pattern ran out of matching time; `pattern` is its source text."""

    def __init__(self, pattern: str, seconds: float) -> None:
        self.pattern = pattern
        super().__init__(f"regular expression '{pattern}' took over {seconds:.2f} s to match")


@contextlib.contextmanager
def match_budget(seconds: float) -> Iterator[None]:
    """All searches inside take at most `seconds` together."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


class Pattern:
    """One policy regex: `search` answers whether it occurs in a text, within its time."""

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str) -> None:
        """Raises regex.error when `regex` cannot compile it (the loader reports that)."""
        self.pattern = pattern
        self._compiled = regex.compile(pattern, regex.IGNORECASE)

    @property
    def flags(self) -> int:
        return int(self._compiled.flags)

    def search(self, text: str) -> bool:
        timeout = MATCH_TIMEOUT
        deadline = _deadline.get()
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                raise MatchTimeoutError(self.pattern, 0.0)
        try:
            return self._compiled.search(text, timeout=timeout) is not None
        except TimeoutError:
            raise MatchTimeoutError(self.pattern, timeout) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"

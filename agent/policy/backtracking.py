"""Finding policy regexes that can backtrack catastrophically, before any agent runs them.

A backtracking engine (Python's `re`, and `regex`) retries every way a pattern can split the
text when a match fails. When a repeated part can match the same characters in more than one
way, the ways multiply with every repetition: `^(\\S*?-?)*\\d$` takes seconds on a 25-character
package name and centuries on a 60-character one. Such a pattern is refused by the policy
loader (file:line: key: reason); `agent.policy.patterns` bounds the time of any pattern that
still gets through, which is the guarantee: this check is the early, explained refusal.

What is refused, inside a part repeated more than once (`*`, `+`, `{n,}`, `{n,m}` with m > 1):

    - the repeated part can match the empty string            (a?)*   (\\S*?-?)*
    - a repetition inside it can match what follows it,
      including the start of the next repetition               (a+)+   (\\w+\\s?)*   (.*,)+
    - two alternatives inside it can begin the same way        (a|a)*  (\\w|\\d)+

These are the shapes of exponential backtracking; they are found on the parse tree of Python's
own `re` parser (`re._parser`, `sre_parse` before 3.11). Characters are compared by testing
sample characters (all of ASCII, a few non-ASCII letters, digits and spaces, and every
character a literal or range of the pattern names), which finds every overlap between the
classes a policy writes. Possessive repeats and atomic groups never give characters back and
are not repetition-ambiguous. Polynomial patterns (`.*.*.*x`) are not refused here: they are
slow only on long texts, and the match time limit covers them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 11):
    from re import _constants as sre
    from re import _parser as sre_parse
else:  # pragma: no cover - exercised on Python 3.10 only
    import sre_constants as sre
    import sre_parse

_SAMPLES = frozenset(
    [chr(code) for code in range(128)]
    + list("éßſİıKÅ汉中文ｱ٣۵\u00a0\u2028\u3000\u200b０𝟘")  # look-alikes on purpose
)
_CATEGORIES: dict[Any, Callable[[str], bool]] = {
    sre.CATEGORY_DIGIT: str.isdecimal,
    sre.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
    sre.CATEGORY_SPACE: str.isspace,
    sre.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
    sre.CATEGORY_LINEBREAK: lambda c: c == "\n",
    sre.CATEGORY_NOT_LINEBREAK: lambda c: c != "\n",
}
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_POSSESSIVE = getattr(sre, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(sre, "ATOMIC_GROUP", None)

EMPTY_REPEAT = (
    "a repeated part can also match nothing, so a failing match tries every way of spreading "
    "the text over its repetitions"
)
OVERLAPPING_REPEAT = (
    "a repetition inside a repeated part can match the same characters as what follows it, "
    "so a failing match tries exponentially many ways of splitting the text; make the parts "
    "exclusive, e.g. [^-]+ instead of \\S*"
)
OVERLAPPING_BRANCH = (
    "alternatives inside a repeated part can begin the same way, so a failing match tries "
    "exponentially many combinations; make them start differently or merge them"
)


@dataclass(frozen=True)
class Chars:
    """A set of characters, as a test, and the characters that define its edges."""

    test: Callable[[str], bool]
    marks: frozenset[str] = frozenset()

    def overlaps(self, other: Chars) -> bool:
        return any(self.test(c) and other.test(c) for c in _SAMPLES | self.marks | other.marks)

    def __or__(self, other: Chars) -> Chars:
        return Chars(lambda c: self.test(c) or other.test(c), self.marks | other.marks)


NOTHING = Chars(lambda c: False)
EVERYTHING = Chars(lambda c: True)


def _folded(c: str) -> tuple[str, ...]:
    """A character and its case variants: policy regexes are case-insensitive."""
    return (c, c.lower(), c.upper(), c.casefold())


def _marks(*chars: str) -> frozenset[str]:
    return frozenset(variant for c in chars for variant in _folded(c) if len(variant) == 1)


def _literal(code: int) -> Chars:
    target = chr(code)
    folded = set(_folded(target))
    return Chars(lambda c: any(variant in folded for variant in _folded(c)), _marks(target))


def _range(low: int, high: int) -> Chars:
    def test(c: str) -> bool:
        return any(len(v) == 1 and low <= ord(v) <= high for v in _folded(c))

    return Chars(test, _marks(chr(low), chr(high)))


def _class(items: Iterable[tuple[Any, Any]]) -> Chars:
    negate, found = False, NOTHING
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            found = found | _literal(av)
        elif op is sre.RANGE:
            found = found | _range(*av)
        elif op is sre.CATEGORY:
            found = found | Chars(_CATEGORIES.get(av, lambda c: True))
        else:  # anything unforeseen could be any character
            found = found | EVERYTHING
    if negate:
        inner = found
        return Chars(lambda c: not inner.test(c), inner.marks)
    return found


@dataclass(frozen=True)
class Shape:
    """What a part of a pattern can match, as far as backtracking is concerned."""

    nullable: bool  # can match the empty string
    first: Chars  # characters a non-empty match can begin with
    chars: Chars  # characters it can consume anywhere


def _atom(op: Any, av: Any) -> Chars | None:
    """The characters of a single-character element, else None."""
    if op is sre.LITERAL:
        return _literal(av)
    if op is sre.NOT_LITERAL:
        excluded = _literal(av)
        return Chars(lambda c: not excluded.test(c), excluded.marks)
    if op is sre.ANY:
        return EVERYTHING
    if op is sre.IN:
        return _class(av)
    return None


def _shape(op: Any, av: Any) -> Shape:
    atom = _atom(op, av)
    if atom is not None:
        return Shape(False, atom, atom)
    if op is sre.SUBPATTERN:
        return _sequence(av[-1])
    if op is _ATOMIC:
        return _sequence(av)
    if op in _REPEATS or op is _POSSESSIVE:
        low, high, body = av
        inner = _sequence(body)
        if high == 0:
            return Shape(True, NOTHING, NOTHING)
        return Shape(low == 0 or inner.nullable, inner.first, inner.chars)
    if op is sre.BRANCH:
        return _alternatives(av[1])
    if op is sre.GROUPREF_EXISTS:
        return _alternatives([av[1], av[2] or []])
    if op is sre.GROUPREF:
        return Shape(True, EVERYTHING, EVERYTHING)
    # AT (anchors), ASSERT, ASSERT_NOT and anything else: zero-width
    return Shape(True, NOTHING, NOTHING)


def _alternatives(branches: Iterable[Any]) -> Shape:
    shapes = [_sequence(branch) for branch in branches]
    first, chars = NOTHING, NOTHING
    for shape in shapes:
        first, chars = first | shape.first, chars | shape.chars
    return Shape(any(shape.nullable for shape in shapes), first, chars)


def _sequence(items: Iterable[Any]) -> Shape:
    nullable, first, chars = True, NOTHING, NOTHING
    for op, av in items:
        shape = _shape(op, av)
        if nullable:
            first = first | shape.first
        nullable = nullable and shape.nullable
        chars = chars | shape.chars
    return Shape(nullable, first, chars)


def _leading_atoms(items: list[Any]) -> list[Chars]:
    """The single-character elements a branch starts with, up to the first other element."""
    atoms = []
    for op, av in items:
        atom = _atom(op, av)
        if atom is None:
            break
        atoms.append(atom)
    return atoms


def _may_begin_alike(left: list[Any], right: list[Any]) -> bool:
    a, b = _sequence(left), _sequence(right)
    if a.nullable or b.nullable:
        return True
    if not a.first.overlaps(b.first):
        return False
    # e.g. `ab|ac`: the second characters tell them apart at once
    pairs = zip(_leading_atoms(left), _leading_atoms(right), strict=False)
    return all(x.overlaps(y) for x, y in pairs)


class _Walker:
    def __init__(self) -> None:
        self.reason: str | None = None

    def sequence(self, items: list[Any], follow: Chars, in_loop: bool) -> None:
        """`follow`: the characters that can come right after `items`."""
        after = follow
        for op, av in reversed(items):
            if self.reason is not None:
                return
            self.element(op, av, after, in_loop)
            shape = _shape(op, av)
            after = shape.first | after if shape.nullable else shape.first

    def element(self, op: Any, av: Any, follow: Chars, in_loop: bool) -> None:
        if op is sre.SUBPATTERN:
            self.sequence(list(av[-1]), follow, in_loop)
        elif op is _ATOMIC:
            self.sequence(list(av), NOTHING, False)
        elif op is _POSSESSIVE:
            self.sequence(list(av[2]), NOTHING, False)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            self.sequence(list(av[1]), NOTHING, False)
        elif op is sre.BRANCH:
            self.branches([list(branch) for branch in av[1]], follow, in_loop)
        elif op is sre.GROUPREF_EXISTS:
            self.branches([list(av[1]), list(av[2] or [])], follow, in_loop)
        elif op in _REPEATS:
            self.repeat(av, follow, in_loop)

    def branches(self, branches: list[list[Any]], follow: Chars, in_loop: bool) -> None:
        if in_loop:
            for index, left in enumerate(branches):
                if any(_may_begin_alike(left, right) for right in branches[index + 1 :]):
                    self.reason = OVERLAPPING_BRANCH
                    return
        for branch in branches:
            self.sequence(branch, follow, in_loop)

    def repeat(self, av: Any, follow: Chars, in_loop: bool) -> None:
        low, high, body = av
        body = list(body)
        shape = _sequence(body)
        iterates = high is sre.MAXREPEAT or high > 1
        if iterates and shape.nullable and shape.chars.overlaps(EVERYTHING):
            self.reason = EMPTY_REPEAT
            return
        if in_loop and low != high and shape.chars.overlaps(follow):
            self.reason = OVERLAPPING_REPEAT
            return
        inner_follow = shape.first | follow if iterates else follow
        self.sequence(body, inner_follow, in_loop or iterates)


def catastrophic_backtracking(pattern: str) -> str | None:
    """Why `pattern` (a valid Python regex, matched case-insensitively) can backtrack
    catastrophically, or None when it has none of the shapes in the module docstring."""
    parsed = sre_parse.parse(pattern)
    walker = _Walker()
    walker.sequence(list(parsed.data), NOTHING, False)
    return walker.reason

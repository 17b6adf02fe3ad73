"""Exceptions the agent raises on purpose, so callers know what to catch.

CustosError               anything Custos raises deliberately
├── ConfigError           agent configuration unusable (file, key, reason)
├── CollectorError        one collector could not observe its facts; others go on
├── CommandError          an OS command failed or timed out (carries the argv)
└── PolicyError           a policy is unusable; carries every problem with file:line: key

A source that could not be read also has a `Cause`, because the advice a user gets depends on
it: "run as administrator" helps when permission was refused and only then; a missing command
or a PC that keeps no such record needs IT, not more rights. `cause_of` reads it from any
exception (an explicit cause on a CollectorError, else the OS error it was raised from).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Cause(str, enum.Enum):
    """Why a source of facts could not be read, in the kinds the advice tells apart."""

    PERMISSION_DENIED = "permission_denied"  # it is there, this user may not read it
    COMMAND_MISSING = "command_missing"  # the program that reads it is not installed
    NO_SOURCE = "no_source"  # this PC keeps no such record (no journal, no log files, ...)
    TIMED_OUT = "timed_out"
    FAILED = "failed"  # anything else; the reason text says what


class CustosError(Exception):
    """Base class of every error Custos raises deliberately."""


class ConfigError(CustosError):
    pass


class CollectorError(CustosError):
    """`cause` None: decided by `cause_of` from the exception this one was raised from."""

    default_cause: Cause | None = None

    def __init__(self, message: str, cause: Cause | None = None) -> None:
        super().__init__(message)
        self.cause = cause if cause is not None else self.default_cause


class CommandError(CollectorError):
    def __init__(self, argv: Sequence[str], reason: str, cause: Cause = Cause.FAILED) -> None:
        self.argv = tuple(argv)
        self.reason = reason
        super().__init__(f"{' '.join(self.argv)}: {reason}", cause)


# How OS tools and Windows say "not allowed" on stderr when they exit non-zero.
_REFUSALS = (
    "permission denied",
    "access denied",
    "access is denied",
    "insufficient permissions",
    "operation not permitted",
    "not permitted",
    "must be root",
    "requires administrator",
)


def refusal_in(text: str) -> bool:
    """Whether an error text says permission was refused."""
    folded = text.casefold()
    return any(words in folded for words in _REFUSALS)


def cause_of(exc: BaseException) -> Cause:
    """The cause of a collector's failure, looking through `raise ... from` chains."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CollectorError) and current.cause is not None:
            return current.cause
        if isinstance(current, PermissionError):
            return Cause.PERMISSION_DENIED
        if isinstance(current, (FileNotFoundError, NotADirectoryError)):
            return Cause.NO_SOURCE
        if isinstance(current, TimeoutError):
            return Cause.TIMED_OUT
        current = current.__cause__ or current.__context__
    return Cause.FAILED


def strongest(causes: Sequence[Cause]) -> Cause:
    """One cause for several sources, the one whose advice to follow first: permission
    (administrator rights may be all it takes), then a missing command, a missing source,
    a timeout, anything else."""
    for cause in Cause:
        if cause in causes:
            return cause
    return Cause.FAILED


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy, located where an editor can jump to it."""

    file: str
    line: int  # 1-based; 0 when the problem has no position (e.g. unreadable file)
    key: str  # dotted path to the offending key, e.g. "required_software[0].match.name"
    reason: str  # English
    reason_zh: str = ""  # the same in Chinese, where the loader has it (YAML-level problems)

    def __str__(self) -> str:
        return self.in_lang("en")

    def reason_in(self, lang: str) -> str:
        """The reason in `lang` ("zh" or "en") when there is one, else in English."""
        return self.reason_zh if lang == "zh" and self.reason_zh else self.reason

    def in_lang(self, lang: str) -> str:
        """`file:line: key: reason`, the reason in `lang` when there is one."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '<document>'}: {self.reason_in(lang)}"


class PolicyError(CustosError):
    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

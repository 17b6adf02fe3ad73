"""Exceptions the agent raises on purpose, so callers know what to catch.

CustosError               anything Custos raises deliberately
├── ConfigError           agent configuration unusable (file, key, reason)
├── CollectorError        one collector could not observe its facts; others go on
├── CommandError          an OS command failed or timed out (carries the argv)
└── PolicyError           a policy is unusable; carries every problem with file:line: key
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class CustosError(Exception):
    """Base class of every error Custos raises deliberately."""


class ConfigError(CustosError):
    pass


class CollectorError(CustosError):
    pass


class CommandError(CollectorError):
    def __init__(self, argv: Sequence[str], reason: str) -> None:
        self.argv = tuple(argv)
        self.reason = reason
        super().__init__(f"{' '.join(self.argv)}: {reason}")


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

"""What `verify` found wrong: problems by member, kept up to a ceiling.

A forged file can hold millions of wrong rows; the first MAX_PROBLEMS are kept (and
printed), the rest only counted, so the list cannot grow with the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class Problem:
    member: str
    reason: str


@dataclass
class Problems:
    kept: list[Problem] = field(default_factory=list)
    more: int = 0  # found beyond MAX_PROBLEMS, not kept

    def add(self, member: str, reason: str) -> None:
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(Problem(member, reason))
        else:
            self.more += 1

    def extend(self, other: Problems) -> None:
        for problem in other.kept:
            self.add(problem.member, problem.reason)
        self.more += other.more

    def as_json(self) -> dict[str, object]:
        return {"kept": [[p.member, p.reason] for p in self.kept], "more": self.more}

    @classmethod
    def from_json(cls, value: object) -> Problems:
        """What a worker process sent (ValueError if it is not that)."""
        if not isinstance(value, dict) or not isinstance(value.get("kept"), list):
            raise ValueError("not a list of problems")
        found = cls()
        for item in value["kept"]:
            if not (
                isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
            ):
                raise ValueError("not a problem")
            found.add(item[0], item[1])
        more = value.get("more")
        if not isinstance(more, int):
            raise ValueError("no count")
        found.more += more
        return found

"""The spool: reports waiting for the server's acknowledgement, one file each, on disk.

A file holds the exact request body that will be sent (the signed envelope), named
`<seq, 20 digits>-<full|heartbeat>-<fail|ok>.json`, so the queue's order and what may be
dropped are known from names alone, without reading a byte. `fail` means at least one finding
has status fail (a violation); `error` and `not_applicable` findings do not make a report
`fail`.

Size bound (`spool_max_bytes`), applied after each add, when the server has been unreachable
for long: drop the oldest heartbeats first, then the oldest full reports without a violation.
A report naming a violation is never dropped, even if the bound stays exceeded (a warning is
logged): evidence of a violation outweighs disk space.

A file that is not a decodable envelope is moved to `quarantine/` (with a `.reason` beside
it) and never blocks the reports behind it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from agent.config import DEFAULT_SPOOL_MAX_BYTES
from agent.durable import (
    LEFTOVER_AGE,
    is_temp_name,
    move_durably,
    remove_durably,
    remove_leftovers,
    write_atomic,
)
from agent.protocol.envelope import decode_envelope
from agent.protocol.errors import ProtocolError
from agent.state import StateDir

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = DEFAULT_SPOOL_MAX_BYTES
REASON_SUFFIX = ".reason"
_NAME = re.compile(r"^(\d{20})-(full|heartbeat)-(fail|ok)\.json$")


@dataclass(frozen=True)
class SpoolEntry:
    seq: int
    kind: str  # "full" | "heartbeat"
    failing: bool
    path: Path
    size: int

    @property
    def name(self) -> str:
        return self.path.name


def entry_name(seq: int, kind: str, failing: bool) -> str:
    if kind not in ("full", "heartbeat"):
        raise ValueError(f"unknown report kind {kind!r}")
    return f"{seq:020d}-{kind}-{'fail' if failing else 'ok'}.json"


def _set_aside(source: Path, directory: Path, reason: str) -> Path:
    """Move `source` into `directory` (never over another file) with a `.reason` beside it."""
    target = directory / source.name
    counter = 1
    while target.exists():
        target = directory / f"{source.name}.{counter}"
        counter += 1
    move_durably(source, target)
    write_atomic(target.with_name(target.name + REASON_SUFFIX), (reason + "\n").encode("utf-8"))
    return target


def _count_reports(directory: Path) -> int:
    if not directory.is_dir():
        return 0
    return sum(
        1
        for entry in directory.iterdir()
        if not entry.name.endswith(REASON_SUFFIX) and not is_temp_name(entry.name)
    )


class Spool:
    def __init__(
        self,
        directory: Path,
        quarantine_dir: Path,
        rejected_dir: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.directory = directory
        self.quarantine_dir = quarantine_dir
        self.rejected_dir = rejected_dir
        self.max_bytes = max_bytes

    @classmethod
    def of(cls, state: StateDir, max_bytes: int = DEFAULT_MAX_BYTES) -> Spool:
        return cls(state.spool_dir, state.quarantine_dir, state.rejected_dir, max_bytes)

    def prepare(self) -> None:
        """Create the directories and remove what an interrupted write left behind."""
        for directory in (self.directory, self.quarantine_dir, self.rejected_dir):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in remove_leftovers(self.directory, LEFTOVER_AGE):
            log.info("spool: removed %s, left over from an interrupted write", path.name)

    # --- the queue -----------------------------------------------------------------------

    def entries(self, quarantine_foreign: bool = True) -> list[SpoolEntry]:
        """Waiting reports, oldest (lowest seq) first. A file with a foreign name is
        quarantined on the way (unless only looking, as `status` does): nothing unknown
        sits in the queue."""
        found: list[SpoolEntry] = []
        if not self.directory.is_dir():
            return found
        for path in self.directory.iterdir():
            if is_temp_name(path.name):
                continue  # being written right now, or swept at the next start
            match = _NAME.match(path.name)
            if match is None:
                if quarantine_foreign:
                    self.quarantine(path, "not a spool file name")
                continue
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue  # delivered meanwhile by another process of this agent
            found.append(
                SpoolEntry(
                    seq=int(match.group(1)),
                    kind=match.group(2),
                    failing=match.group(3) == "fail",
                    path=path,
                    size=size,
                )
            )
        found.sort(key=lambda entry: entry.seq)
        return found

    def count(self) -> int:
        return len(self.entries(quarantine_foreign=False))

    def add(self, seq: int, kind: str, failing: bool, body: bytes) -> SpoolEntry:
        path = self.directory / entry_name(seq, kind, failing)
        for kind_, failing_ in (
            ("full", False),
            ("full", True),
            ("heartbeat", False),
            ("heartbeat", True),
        ):
            same_seq = self.directory / entry_name(seq, kind_, failing_)
            if same_seq.exists():
                raise FileExistsError(f"spool already holds seq {seq}: {same_seq}")
        write_atomic(path, body, mode=0o600)
        entry = SpoolEntry(seq, kind, failing, path, len(body))
        self.enforce_bound()
        return entry

    def read(self, entry: SpoolEntry) -> bytes | None:
        """The body to send, or None when the file is gone or was quarantined as corrupt."""
        try:
            body = entry.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            decode_envelope(body)
        except ProtocolError as exc:
            self.quarantine(entry.path, f"not a decodable envelope: {exc}")
            return None
        return body

    def remove(self, entry: SpoolEntry) -> None:
        remove_durably(entry.path)

    # --- setting reports aside -------------------------------------------------------------

    def quarantine(self, path: Path, why: str) -> None:
        try:
            target = _set_aside(path, self.quarantine_dir, why)
        except FileNotFoundError:
            return
        log.warning("spool: %s quarantined to %s: %s", path.name, target, why)

    def reject(self, entry: SpoolEntry, reason: str, detail: str, status: int) -> None:
        """A report the server refused for good: kept in rejected/ for people, not resent."""
        try:
            target = _set_aside(entry.path, self.rejected_dir, f"{status} {reason}: {detail}")
        except FileNotFoundError:
            return
        log.error(
            "report seq %d refused by the server (%s: %s): %s", entry.seq, reason, detail, target
        )

    def quarantined(self) -> int:
        return _count_reports(self.quarantine_dir)

    def rejected(self) -> int:
        return _count_reports(self.rejected_dir)

    # --- the size bound ---------------------------------------------------------------------

    def enforce_bound(self) -> list[SpoolEntry]:
        """Drop reports until the spool fits `max_bytes`, by the rule in the module docstring;
        returns what was dropped."""
        entries = self.entries()
        total = sum(entry.size for entry in entries)
        if total <= self.max_bytes:
            return []
        heartbeats = [e for e in entries if e.kind == "heartbeat"]
        passing_full = [e for e in entries if e.kind == "full" and not e.failing]
        dropped: list[SpoolEntry] = []
        for entry in heartbeats + passing_full:
            if total <= self.max_bytes:
                break
            self.remove(entry)
            total -= entry.size
            dropped.append(entry)
        if dropped:
            log.warning(
                "spool over %d bytes: dropped %d report(s) without violations, oldest first "
                "(seq %s)",
                self.max_bytes,
                len(dropped),
                ", ".join(str(e.seq) for e in dropped),
            )
        if total > self.max_bytes:
            log.warning(
                "spool holds %d bytes, over its bound of %d, in reports naming violations; "
                "they are kept until the server acknowledges them",
                total,
                self.max_bytes,
            )
        return dropped

"""Verify's check of the derived members: regenerated from snapshot.json, compared row by row.

hosts.csv, findings.csv, software.csv and snapshot.html are rebuilt from the records of
snapshot.json (`derived`, the code `create` wrote them with) and compared with the
archive's, the first difference in each named by row (spreadsheets) or line (the page); then
each is hashed against the manifest. Two passes over snapshot.json: the page's check sheets
come after its summary.

The other half of verify reports on snapshot.json itself (its layout, its records against
the agents' signed reports); where the layout is broken this half stops without a word,
since what follows cannot be regenerated. Run in-process (`check`) or, for a large file on
a machine with a second core, as a worker beside the other half
(`python -m server.snapshots.derived_check`, see `workers`). Nothing here imports Django.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from agent.protocol.envelope import HOST_ID
from server.snapshots.archive import Archive, MemberError, MemberStream
from server.snapshots.bundle import MAX_LINE_BYTES, PAGE, SNAPSHOT
from server.snapshots.derived import DERIVED, Derived
from server.snapshots.document import Header, LayoutError, SnapshotLines, Tally
from server.snapshots.problems import Problems

Listed = dict[str, tuple[str, int]]  # member: (sha256, size) as the manifest lists them
_SHOWN = 70  # characters of a differing line shown around the first difference


def check(archive: Archive, listed: Listed) -> Problems:
    problems = Problems()
    streams: dict[str, MemberStream] = {}
    for member in DERIVED:
        if member.name in listed:
            try:
                streams[member.name] = archive.stream(member.name)
            except MemberError as exc:
                problems.add(member.name, str(exc))
    try:
        if SNAPSHOT in listed:
            compares = [_Compare(problems, item, streams.get(item.name)) for item in DERIVED]
            # What is wrong with snapshot.json itself, the other half says.
            with contextlib.suppress(LayoutError, MemberError):
                _regenerate(archive, compares)
        for name, stream in streams.items():
            _hash(problems, name, stream, listed[name])
    finally:
        for stream in streams.values():
            stream.close()
    return problems


def _regenerate(archive: Archive, compares: list[_Compare]) -> None:
    first = SnapshotLines(archive.stream(SNAPSHOT))
    try:
        fields = first.header()
        header = Header(*(_string(fields.get(name)) for name in Header.FIELDS))
        for compare in compares:
            compare.expect(compare.member.head(header))
        tally = Tally()
        for _, body in first.hosts():
            record = _record(body)
            tally.add(record.get("state"))
            for compare in compares:
                compare.expect(compare.member.rows(record), record.get("host_id"))
        first.summary()
    finally:
        first.stream.close()
    for compare in compares:
        compare.expect(compare.member.middle(tally))
    if any(compare.alive and compare.member.name == PAGE for compare in compares):
        second = SnapshotLines(archive.stream(SNAPSHOT))
        try:
            second.header()
            for _, body in second.hosts():
                record = _record(body)
                for compare in compares:
                    compare.expect(compare.member.sheets(record), record.get("host_id"))
        finally:
            second.stream.close()
    for compare in compares:
        compare.expect(compare.member.tail())
        compare.expect_end()


def _record(body: bytes) -> dict[str, Any]:
    """A record as the derived members see it; the other half parses it strictly (duplicate
    keys) and reports a line that is not a JSON object."""
    try:
        record = json.loads(body)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _hash(problems: Problems, name: str, stream: MemberStream, listed: tuple[str, int]) -> None:
    try:
        stream.drain()
    except MemberError as exc:
        problems.add(name, str(exc))
        return
    digest, size = listed
    if stream.size != size:
        problems.add(name, f"{stream.size} bytes; the manifest says {size}")
    elif stream.hexdigest() != digest:
        problems.add(name, "its SHA-256 does not match the manifest (changed after signing)")


class _Compare:
    """One derived member of the archive against what snapshot.json gives, row by row;
    the first difference is reported and ends the comparison of that member."""

    def __init__(self, problems: Problems, member: Derived, stream: MemberStream | None) -> None:
        self.problems = problems
        self.member = member
        self.stream = stream
        self.columns: list[str] = []

    @property
    def alive(self) -> bool:
        return self.stream is not None

    def expect(self, parts: list[bytes], host_id: Any = None) -> None:
        if self.stream is None or not parts:
            return
        if self.member.rows_are_csv and not self.columns:
            self.columns = _cells(parts[0])  # the header row: names the columns
        if self.stream.skip_if_next(b"".join(parts), len(parts)):
            return  # the usual case; else find the row that differs, one by one
        for part in parts:
            try:
                if self.member.rows_are_csv:
                    actual = self.stream.row(MAX_LINE_BYTES)
                else:
                    actual = self.stream.line(MAX_LINE_BYTES)
            except MemberError as exc:
                self._stop(str(exc))
                return
            if actual != part:
                self._stop(self._difference(self.stream, actual, part, host_id))
                return

    def expect_end(self) -> None:
        if self.stream is None:
            return
        try:
            at_end = self.stream.at_end()
        except MemberError as exc:
            self._stop(str(exc))
            return
        if not at_end:
            self._stop(f"{self.member.unit} {self.stream.lines + 1}: more than snapshot.json gives")

    def _stop(self, reason: str) -> None:
        self.problems.add(self.member.name, reason)
        self.stream = None

    def _difference(
        self, stream: MemberStream, actual: bytes | None, expected: bytes, host_id: Any
    ) -> str:
        where = f"{self.member.unit} {stream.lines + (1 if actual is None else 0)}"
        host = f" (host {host_id})" if isinstance(host_id, str) and HOST_ID.match(host_id) else ""
        if actual is None:
            return f"{where}: missing; snapshot.json gives {_shown(expected, 0)}{host}"
        if self.member.rows_are_csv:
            mine, theirs = _cells(actual), _cells(expected)
            for index, (cell, wanted) in enumerate(zip(mine, theirs, strict=False)):
                if cell != wanted:
                    column = self.columns[index] if index < len(self.columns) else f"#{index + 1}"
                    return (
                        f"{where}{host}: {column} is {cell!r:.100}; "
                        f"snapshot.json gives {wanted!r:.100}"
                    )
            return f"{where}{host}: {len(mine)} cells; snapshot.json gives {len(theirs)}"
        at = next(
            (i for i, (a, b) in enumerate(zip(actual, expected, strict=False)) if a != b),
            min(len(actual), len(expected)),
        )
        return f"{where}{host}: {_shown(actual, at)}; snapshot.json gives {_shown(expected, at)}"


def _cells(row: bytes) -> list[str]:
    """A row's cells, to name the column that differs; a row that is not CSV (a NUL, a bare
    line break) is one cell."""
    text = row.decode("utf-8", "replace").lstrip("\ufeff")
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return [text]


def _shown(data: bytes, at: int) -> str:
    """The text of `data` around byte `at`, as a quoted Python string (control characters
    escaped, so nothing a forger wrote acts on the terminal)."""
    start = max(at - _SHOWN // 2, 0)
    text = data[start : start + _SHOWN].decode("utf-8", "replace").rstrip("\n")
    return ("…" if start else "") + repr(text)


def main() -> int:
    """The worker: one request line {"path", "listed"} on stdin, the problems on stdout."""
    request = json.loads(sys.stdin.buffer.readline())
    listed: Listed = {name: (item[0], item[1]) for name, item in request["listed"].items()}
    with Archive(Path(request["path"])) as archive:
        problems = check(archive, listed)
    sys.stdout.write(json.dumps(problems.as_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

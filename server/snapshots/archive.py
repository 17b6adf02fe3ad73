"""Reading a snapshot file that nothing vouches for yet, within hard ceilings.

A hostile file can claim anything: a directory of millions of entries, a member of a
terabyte, a one-megabyte deflate bomb that inflates to a gigabyte. Every read here is
bounded by the ceilings in `bundle`, never by what the file or its manifest states:

    directory   refused before it is parsed when it holds more than MAX_ARCHIVE_MEMBERS
                entries or MAX_DIRECTORY_BYTES (its size is in the ZIP's end record)
    names       counted once (a name stored twice is noticed in linear time)
    members     refused before inflating when the directory gives an inflated size over
                MAX_MEMBER_BYTES or over MAX_COMPRESSION_RATIO times the stored size;
                zipfile stops inflating at the directory's size, so that bound holds
    reading     streamed a megabyte at a time and hashed as it is read; a line, a CSV row
                or a small member longer than its ceiling is an error, not an allocation

Nothing here imports Django.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from server.snapshots.bundle import (
    MAX_ARCHIVE_MEMBERS,
    MAX_COMPRESSION_RATIO,
    MAX_DIRECTORY_BYTES,
    MAX_MEMBER_BYTES,
    NotASnapshotError,
)

CHUNK = 1024 * 1024
MAX_LOOKAHEAD = 64 * 1024 * 1024  # what `skip_if_next` may buffer to compare at once
# What reading a damaged member can raise (CRC, truncation, bad deflate data).
READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)

# zipfile's own reader of the end-of-central-directory record (and its ZIP64 variant): using
# it means the directory size checked here is the one zipfile then reads.
_end_record: Callable[[IO[bytes]], list[Any] | None] = zipfile._EndRecData  # type: ignore[attr-defined]
_ENTRIES: int = zipfile._ECD_ENTRIES_TOTAL  # type: ignore[attr-defined]
_DIRECTORY_SIZE: int = zipfile._ECD_SIZE  # type: ignore[attr-defined]


class MemberError(Exception):
    """A member cannot be read as far as it must be (too large, too long a line, damaged)."""


def check_directory(path: Path) -> None:
    """Refuse, before zipfile parses it, a ZIP directory no snapshot could have."""
    try:
        with path.open("rb") as file:
            end = _end_record(file)
    except OSError as exc:
        raise NotASnapshotError(f"cannot read it as a ZIP archive: {exc}") from None
    if end is None:
        raise NotASnapshotError("cannot read it as a ZIP archive: File is not a zip file")
    entries, size = end[_ENTRIES], end[_DIRECTORY_SIZE]
    if entries > MAX_ARCHIVE_MEMBERS or size > MAX_DIRECTORY_BYTES:
        raise NotASnapshotError(
            f"its ZIP directory lists {entries} members in {size} bytes; a snapshot has at "
            f"most {MAX_ARCHIVE_MEMBERS} members (not read further)"
        )


class Archive:
    """A snapshot file opened for checking; nothing in it is trusted yet."""

    def __init__(self, path: Path) -> None:
        self.path = path
        check_directory(path)
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
            raise NotASnapshotError(f"cannot read it as a ZIP archive: {exc}") from None
        if len(infos) > MAX_ARCHIVE_MEMBERS:  # the end record understated them
            self.close()
            raise NotASnapshotError(f"it holds more than {MAX_ARCHIVE_MEMBERS} members")
        self.copies = Counter(info.filename for info in infos)
        self.names = sorted(self.copies)

    def has(self, name: str) -> bool:
        return name in self.copies

    def ceiling_problem(self, name: str) -> str | None:
        """Why member `name` will not be inflated at all, or None."""
        info = self._zip.getinfo(name)
        if info.file_size > MAX_MEMBER_BYTES:
            return f"inflates to {info.file_size} bytes, over the {MAX_MEMBER_BYTES} verify reads"
        if info.file_size > max(info.compress_size, 1024) * MAX_COMPRESSION_RATIO:
            return (
                f"inflates {info.compress_size} bytes to {info.file_size} (a ratio over "
                f"{MAX_COMPRESSION_RATIO}): a ZIP bomb, not read"
            )
        return None

    def read_small(self, name: str, limit: int) -> bytes:
        """All of member `name`, which must be at most `limit` bytes (MemberError if not)."""
        problem = self.ceiling_problem(name)
        if problem is None and self._zip.getinfo(name).file_size > limit:
            problem = f"is {self._zip.getinfo(name).file_size} bytes, over the {limit} it may be"
        if problem is not None:
            raise MemberError(problem)
        try:
            with self._zip.open(name) as stream:
                data = stream.read(limit + 1)
        except READ_ERRORS as exc:
            raise MemberError(f"cannot be read from the archive: {exc}") from None
        if len(data) > limit:
            raise MemberError(f"is over the {limit} bytes it may be")
        return data

    def stream(self, name: str) -> MemberStream:
        problem = self.ceiling_problem(name)
        if problem is not None:
            raise MemberError(problem)
        try:
            return MemberStream(self._zip.open(name))
        except READ_ERRORS as exc:
            raise MemberError(f"cannot be read from the archive: {exc}") from None

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MemberStream:
    """One member read front to back: hashed and counted as it is read, split into lines
    (or CSV rows) no longer than a ceiling. Only the current chunk is held."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._digest = hashlib.sha256()
        self.size = 0  # bytes read from the archive so far
        self._buffer = b""
        self._position = 0
        self._eof = False
        self.lines = 0  # lines (or rows) handed out so far

    def _fill(self) -> bool:
        """Read one more chunk; False at the end of the member."""
        if self._eof:
            return False
        try:
            block = self._raw.read(CHUNK)
        except READ_ERRORS as exc:
            raise MemberError(f"cannot be read from the archive: {exc}") from None
        if not block:
            self._eof = True
            return False
        self._digest.update(block)
        self.size += len(block)
        self._buffer = self._buffer[self._position :] + block
        self._position = 0
        return True

    def line(self, limit: int) -> bytes | None:
        """The next line with its b"\\n" (the last may have none); None at the end."""
        while True:
            end = self._buffer.find(b"\n", self._position)
            if end >= 0:
                return self._take(end + 1, limit)
            if len(self._buffer) - self._position > limit:
                raise MemberError(f"line {self.lines + 1} is over {limit} bytes")
            if not self._fill():
                if self._position == len(self._buffer):
                    return None
                return self._take(len(self._buffer), limit)

    def row(self, limit: int) -> bytes | None:
        """The next CSV row: lines up to one that closes every quoted cell (a cell may hold
        line breaks, quoted; quotes inside a cell are doubled, so they come in pairs).
        `lines` then counts rows."""
        start = self.lines
        parts: list[bytes] = []
        length = quotes = 0
        while True:
            try:
                line = self.line(max(limit - length, 0))
            except MemberError:
                raise MemberError(f"row {start + 1} is over {limit} bytes") from None
            if line is None:
                self.lines = start + (1 if parts else 0)
                return b"".join(parts) if parts else None
            parts.append(line)
            length += len(line)
            quotes += line.count(b'"')
            if quotes % 2 == 0:
                self.lines = start + 1
                return b"".join(parts)

    def _take(self, end: int, limit: int) -> bytes:
        if end - self._position > limit:
            raise MemberError(f"line {self.lines + 1} is over {limit} bytes")
        data = self._buffer[self._position : end]
        self._position = end
        self.lines += 1
        return data

    def skip_if_next(self, data: bytes, lines: int) -> bool:
        """If the member continues with `data`, pass over it (counting `lines` lines or rows)
        and say so; otherwise leave the position as it was. (One comparison in C per host,
        where reading line by line cost more than regenerating the lines.)"""
        while len(self._buffer) - self._position < len(data):
            if len(self._buffer) - self._position > MAX_LOOKAHEAD or not self._fill():
                return False
        if not self._buffer.startswith(data, self._position):
            return False
        self._position += len(data)
        self.lines += lines
        return True

    def at_end(self) -> bool:
        return self._position == len(self._buffer) and not self._fill()

    def drain(self) -> None:
        """Read (and hash) the rest of the member."""
        self._position = len(self._buffer)
        while self._fill():
            self._position = len(self._buffer)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def close(self) -> None:
        self._raw.close()

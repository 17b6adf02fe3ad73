"""The derived members' per-host parts, rendered from snapshot.json's lines into spool files.

`create` writes each host's record line; this turns it into the host's rows of hosts.csv,
findings.csv and software.csv and its summary row and check sheet of snapshot.html
(`derived`), appended to one spool file per part, which `create` later copies into the
archive between each member's head, middle and tail. It reads the record back from its JSON
line, as `verify` will, so that both sides derive from exactly the same values.

For a large export it runs as a worker beside the database reads
(`python -m server.snapshots.render`, see `workers`): a request line naming the spool files,
then one record line per host; it answers with the number of hosts rendered. Nothing here
imports Django.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from server.snapshots.derived import DERIVED

SPOOL_BUFFER = 1024 * 1024


class Renderer:
    """Appends each host's parts to the spools: `rows[member]`, `sheets[member]`."""

    def __init__(self, rows: Mapping[str, IO[bytes]], sheets: Mapping[str, IO[bytes]]) -> None:
        self.rows = rows
        self.sheets = sheets
        self.hosts = 0

    def add(self, line: bytes) -> None:
        record = json.loads(line)
        for member in DERIVED:
            self.rows[member.name].write(b"".join(member.rows(record)))
            self.sheets[member.name].write(b"".join(member.sheets(record)))
        self.hosts += 1

    def add_all(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.add(line)


@contextlib.contextmanager
def opened(paths: dict[str, dict[str, str]]) -> Iterator[Renderer]:
    """A Renderer writing to the spool files at `paths` ({"rows": {member: path}, "sheets":
    …}), truncated first; flushed and closed when the block ends."""
    with contextlib.ExitStack() as files:
        spools = {
            part: {
                name: files.enter_context(Path(path).open("wb", buffering=SPOOL_BUFFER))
                for name, path in paths[part].items()
            }
            for part in ("rows", "sheets")
        }
        yield Renderer(spools["rows"], spools["sheets"])


def main() -> int:
    """The worker: the request line, then a record line per host until the end of input."""
    stdin = sys.stdin.buffer
    paths = json.loads(stdin.readline())
    with opened(paths) as renderer:
        renderer.add_all(line for line in stdin if line.strip())
    sys.stdout.write(json.dumps({"hosts": renderer.hosts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

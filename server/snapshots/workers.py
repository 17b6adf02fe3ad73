"""A second process for the half of the work that can run beside the other.

`create` renders the spreadsheets and the page, and `verify` regenerates and compares them,
in a worker while the first process does the rest (reading the database, checking the
agents' signatures): on a two-core server that halves the time of a large snapshot.

A worker is `python -m <module>` run with the same interpreter: it reads one JSON request
line on standard input (and, for `create`, the snapshot's lines after it), and prints one
JSON answer. If it cannot be started or does not answer as it should, the caller does the
work itself: a worker changes how fast a snapshot is made or checked, never what comes out.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from typing import IO, Any

PARALLEL_FROM_BYTES = 8 * 1024 * 1024  # of snapshot.json (600 hosts): less is not worth it


def cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def worth_it(size: int) -> bool:
    return cpus() > 1 and size >= PARALLEL_FROM_BYTES


class Worker:
    """One worker process; `None` from `start` when there is none to be had."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @classmethod
    def start(cls, module: str, request: dict[str, Any]) -> Worker | None:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", module],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        worker = cls(process)
        if not worker.send(json.dumps(request).encode("utf-8") + b"\n"):
            return None
        return worker

    @property
    def stdin(self) -> IO[bytes]:
        assert self._process.stdin is not None  # noqa: S101 (Popen with stdin=PIPE)
        return self._process.stdin

    def send(self, data: bytes) -> bool:
        """False when the worker is gone (it is then stopped and the caller takes over)."""
        try:
            self.stdin.write(data)
        except (BrokenPipeError, OSError):
            self.stop()
            return False
        return True

    def answer(self) -> Any:
        """The worker's JSON answer once it is done; None if it failed."""
        try:
            output, _ = self._process.communicate()
        except (BrokenPipeError, OSError):
            self.stop()
            return None
        if self._process.returncode != 0:
            return None
        try:
            return json.loads(output)
        except ValueError:
            return None

    def stop(self) -> None:
        """End the worker (killed if it still runs) and close its pipes. Closing may try to
        flush what the worker no longer reads: that is not an error here, and must not hide
        the one that made the caller stop it."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

"""Durable file writes: a file is either its old content or its new content, never half.

The agent's state (its key, the seq counter, spooled reports) must survive a power cut or a
`kill -9` at any moment. Every write therefore goes to a temporary file in the same directory
(so the rename cannot cross file systems), is flushed and fsynced, renamed over the target,
and the directory is fsynced so the rename itself is on disk. A crash leaves at most a
temporary file behind, which `remove_leftovers` deletes at the next start.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TEMP_PREFIX = "."
TEMP_SUFFIX = ".partial"
LEFTOVER_AGE = 60.0  # a temporary file this old belongs to no write in progress


def is_temp_name(name: str) -> bool:
    """Whether `name` is one of our temporary files (a crash left it behind)."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable. Windows has no directory handles to
    fsync (NTFS journals the rename itself), so there it does nothing."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data`, atomically and durably, with permission bits `mode`.

    The temporary file is created 0600 and given `mode` before any byte is written, so a
    private key is never readable by others, not even for a moment.
    """
    fd, temp_name = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    temp = Path(temp_name)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(path.parent)


def write_json_atomic(path: Path, value: Any, mode: int = 0o644) -> None:
    """`value` as indented UTF-8 JSON (state files are read by people debugging too)."""
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"), mode)


def move_durably(source: Path, target: Path) -> None:
    """Rename `source` to `target` (same file system) and make both directories durable."""
    source.replace(target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)


def remove_durably(path: Path) -> None:
    """Delete `path` (missing is fine) and make the deletion durable."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_dir(path.parent)


def remove_leftovers(directory: Path, min_age: float = 0.0) -> list[Path]:
    """Delete the temporary files a crash left in `directory`; returns what was removed.

    `min_age` (seconds) spares files younger than that: another process of the same agent
    (`send` beside `run`) may be writing one right now.
    """
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    now = time.time()
    for entry in directory.iterdir():
        if not is_temp_name(entry.name):
            continue
        with contextlib.suppress(FileNotFoundError):
            if entry.is_file() and now - entry.stat().st_mtime >= min_age:
                entry.unlink()
                removed.append(entry)
    return removed

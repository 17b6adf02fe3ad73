"""Files only the server's user may read, created once: the server key, the secret key.

Several processes may want such a file at the same moment (gunicorn starts its workers
together), so creation must be atomic and must never leave a half-written file: the content
goes to a private temporary file that is then hard-linked into place. `link` fails when the
name exists, so exactly one process wins and everyone reads the winner's content.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

PRIVATE_MODE = 0o600
DIRECTORY_MODE = 0o700


def ensure_private_directory(path: Path) -> None:
    """Create the directory (and parents) readable by this user only, if it is missing."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The bytes in `path`; when it does not exist yet, `make()` them and store them 0600."""
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes()
    ensure_private_directory(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(make())
            stream.flush()
            os.fsync(stream.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_bytes()

"""Running the server as a real process (`python -m server ...`) against its own data dir."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python -m server` process with its own data directory.

    No CUSTOS_* variable is inherited: a process gets its own SQLite database in `data_dir`,
    even when the suite runs against PostgreSQL, so it never touches the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["CUSTOS_DATA_DIR"] = str(data_dir)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def server_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", *args]


def run_server(
    data_dir: Path, *args: str, stdin: str = "", timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_argv(*args),
        input=stdin,
        capture_output=True,
        text=True,
        env=server_env(data_dir, **extra),
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def server_database(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite database of a server process, read or changed behind its back; committed
    and closed on leaving. (`with sqlite3.connect(...)` only commits: the connection stays
    open until garbage collection, which Python 3.13 reports as a ResourceWarning, an error
    in this suite.)"""
    connection = sqlite3.connect(data_dir / "custos.sqlite3")
    try:
        with connection:
            yield connection
    finally:
        connection.close()

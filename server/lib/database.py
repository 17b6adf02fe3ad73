"""The DATABASES entry: SQLite in the data directory, or PostgreSQL from a URL.

SQLite is the default because a unit server should run from one directory with nothing else
to install. It is tuned for one writer at a time and many readers: WAL (readers never block
the writer), synchronous=NORMAL (safe with WAL, far fewer fsyncs), a busy timeout, and
IMMEDIATE transactions so that two writers queue on the lock when their transaction begins
instead of one failing with "database is locked" halfway through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from server.lib.env import SettingError

SQLITE_FILE = "custos.sqlite3"
BUSY_TIMEOUT_SECONDS = 20
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}",
)
_POSTGRES_SCHEMES = ("postgresql", "postgres")


def sqlite_database(data_dir: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": data_dir / SQLITE_FILE,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": BUSY_TIMEOUT_SECONDS,
            "init_command": ";".join(SQLITE_PRAGMAS),
        },
    }


def postgres_database(url: str, variable: str) -> dict[str, Any]:
    """`postgresql://user:pass@host:port/db?sslmode=require`; query items become OPTIONS."""
    shown = _without_password(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SettingError(variable, shown, f"not a valid URL: {exc}") from None
    if parts.scheme not in _POSTGRES_SCHEMES:
        raise SettingError(
            variable, shown, "expected postgresql://user:password@host:port/database"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name or "/" in name:
        raise SettingError(variable, shown, "the URL names no database (…/database at the end)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        # Threads of a gthread worker each keep a connection for a minute, checked before use.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def database_settings(url: str | None, data_dir: Path, variable: str) -> dict[str, Any]:
    return sqlite_database(data_dir) if url is None else postgres_database(url, variable)


def _without_password(url: str) -> str:
    """The URL as error messages may show it: a password never goes to a log."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, sep, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{tail}" if sep else f"***@{tail}"

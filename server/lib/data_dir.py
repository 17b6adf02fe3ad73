"""Where the server keeps what must survive upgrades, when CUSTOS_DATA_DIR does not say.

Run as root (the system service), that is /var/lib/custos-server, as the Filesystem
Hierarchy Standard has it; run by a person trying it out, their XDG data directory, so that
a first look needs no root and leaves nothing in system places.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

SYSTEM_DATA_DIR = Path("/var/lib/custos-server")


def default_data_dir(euid: int | None, home: Path, environ: Mapping[str, str]) -> Path:
    """`euid` is None where the OS has no user ids (the server is not meant for those)."""
    if euid == 0:
        return SYSTEM_DATA_DIR
    xdg = environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / "custos-server"

"""Installed software on Linux: the dpkg database (Debian, UOS, Kylin) and rpm where present.

dpkg's status file is read directly rather than through `dpkg-query`: it is the same data,
needs no process, and keeps a full inventory well under the time a Perl agent takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from agent.errors import CollectorError, CommandError
from agent.facts import Software
from agent.platforms.base import CommandRunner

# Status values dpkg shows as installed ("ii", "hi" in dpkg -l).
_INSTALLED_STATES = frozenset({"installed"})


def _stanzas(text: str) -> Iterator[dict[str, str]]:
    """Split a deb822 file into field dicts; continuation lines are dropped (not needed)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
                fields = {}
            continue
        if line[0] in " \t":
            continue
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    if fields:
        yield fields


def read_dpkg(dpkg_dir: Path) -> tuple[Software, ...]:
    """Every installed package, as `dpkg-query -W` lists it (name, version, architecture)."""
    status_file = dpkg_dir / "status"
    try:
        text = status_file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CollectorError(f"cannot read {status_file}: {exc.strerror}") from exc
    info_dir = dpkg_dir / "info"
    packages = []
    for fields in _stanzas(text):
        status = fields.get("Status", "").split()
        if len(status) != 3 or status[2] not in _INSTALLED_STATES:
            continue
        name = fields.get("Package", "")
        architecture = fields.get("Architecture", "")
        packages.append(
            Software(
                name=name,
                version=fields.get("Version", ""),
                publisher=fields.get("Maintainer", ""),
                install_date=_dpkg_install_date(info_dir, name, architecture, fields),
                source="dpkg",
                architecture=architecture,
            )
        )
    return tuple(packages)


def _dpkg_install_date(info_dir: Path, name: str, arch: str, fields: dict[str, str]) -> str:
    """dpkg keeps no install date; the file list's mtime is when it was last unpacked."""
    candidates = [info_dir / f"{name}.list"]
    if fields.get("Multi-Arch") == "same":
        candidates.insert(0, info_dir / f"{name}:{arch}.list")
    for candidate in candidates:
        try:
            stamp = candidate.stat().st_mtime
        except OSError:
            continue
        return dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc).date().isoformat()
    return ""


_RPM_FORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{VENDOR}\\t%{INSTALLTIME}\\t%{ARCH}\\n"


def read_rpm(run: CommandRunner) -> tuple[Software, ...]:
    """rpm's database is not a stable file format, so rpm itself is asked."""
    try:
        output = run(["rpm", "-qa", "--qf", _RPM_FORMAT], timeout=30.0)
    except CommandError as exc:
        raise CollectorError(f"rpm database unreadable: {exc.reason}") from exc
    packages = []
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not parts[0]:
            continue
        name, version, vendor, installed, arch = parts
        install_date = ""
        if installed.isdigit():
            stamp = dt.datetime.fromtimestamp(int(installed), tz=dt.timezone.utc)
            install_date = stamp.date().isoformat()
        packages.append(
            Software(
                name=name,
                version=version,
                publisher="" if vendor == "(none)" else vendor,
                install_date=install_date,
                source="rpm",
                architecture="" if arch == "(none)" else arch,
            )
        )
    return tuple(packages)

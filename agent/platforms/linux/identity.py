"""Who this Linux machine is: OS release, machine id, disk serials, fully qualified name."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from agent.platforms.base import OsRelease

# Disks that are not hardware: their "serial" would identify nothing.
_VIRTUAL_DISK_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "nbd", "overlay")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def read_os_release(etc: Path) -> OsRelease:
    fields: dict[str, str] = {}
    text = _read(etc / "os-release") or _read(etc.parent / "usr" / "lib" / "os-release")
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            parsed = shlex.split(value) if value else [""]
            fields[key.strip()] = parsed[0] if parsed else ""
    return OsRelease(
        name=fields.get("NAME", "Linux"),
        version=fields.get("VERSION_ID", fields.get("VERSION", "")),
        kernel=os.uname().release,
    )


def read_machine_id(etc: Path, var: Path) -> str:
    return _read(etc / "machine-id") or _read(var / "lib" / "dbus" / "machine-id")


def read_disk_serials(sys_root: Path, udev_root: Path) -> tuple[str, ...]:
    """Serials of the machine's fixed disks (the check sheet's 硬盘序列号).

    NVMe and virtio expose `serial` in sysfs; SATA/SCSI serials live in the udev database
    (ID_SERIAL_SHORT), which is where `lsblk -o SERIAL` reads them too.
    """
    serials: list[str] = []
    try:
        disks = sorted((sys_root / "block").iterdir())
    except OSError:
        return ()
    for disk in disks:
        if disk.name.startswith(_VIRTUAL_DISK_PREFIXES) or _read(disk / "removable") == "1":
            continue
        serial = _read(disk / "device" / "serial") or _read(disk / "serial")
        if not serial:
            major_minor = _read(disk / "dev")
            for line in _read(udev_root / "data" / f"b{major_minor}").splitlines():
                if line.startswith("E:ID_SERIAL_SHORT="):
                    serial = line.split("=", 1)[1]
        if serial and serial not in serials:
            serials.append(serial)
    return tuple(serials)


def read_fqdn(hostname: str, etc: Path) -> str:
    """The FQDN from /etc/hosts, never from DNS: an inventory must not touch the network."""
    if "." in hostname:
        return hostname
    for line in _read(etc / "hosts").splitlines():
        names = line.split("#", 1)[0].split()[1:]
        if hostname in names:
            dotted = [name for name in names if name.startswith(hostname + ".")]
            if dotted:
                return dotted[0]
    return hostname

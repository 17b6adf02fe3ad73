"""The Linux adapter (Debian, UOS, Kylin and other systemd distributions).

Every source is a path under `root` or a command run through `run`, so tests can point the
adapter at a recorded tree; in production `root` is "/".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from agent.errors import CollectorError
from agent.facts import Neighbour, Route, Service, Software, StorageDevice, UsbDevice
from agent.platforms.base import (
    CommandRunner,
    InterfaceInfo,
    MediaHistory,
    OsRelease,
    run_command,
)
from agent.platforms.linux import identity, neighbours, netinfo, packages, systemd
from agent.platforms.linux.kernel_log import read_media_history
from agent.platforms.linux.media import read_removable_storage, read_usb_devices


class LinuxAdapter:
    name = "linux"

    def __init__(self, root: Path = Path("/"), run: CommandRunner = run_command) -> None:
        self.root = root
        self.run = run
        self.sys = root / "sys"
        self.proc = root / "proc"
        self.etc = root / "etc"
        self.udev = root / "run" / "udev"

    def os_release(self) -> OsRelease:
        return identity.read_os_release(self.etc)

    def machine_id(self) -> str:
        return identity.read_machine_id(self.etc, self.root / "var")

    def disk_serials(self) -> tuple[str, ...]:
        return identity.read_disk_serials(self.sys, self.udev)

    def fqdn(self, hostname: str) -> str:
        return identity.read_fqdn(hostname, self.etc)

    def installed_software(self) -> tuple[Software, ...]:
        found: list[Software] = []
        dpkg_dir = self.root / "var" / "lib" / "dpkg"
        if (dpkg_dir / "status").exists():
            found.extend(packages.read_dpkg(dpkg_dir))
        # rpm can sit beside dpkg (alien, some Kylin builds); only ask it when it has a DB.
        if any((self.root / "var" / "lib" / "rpm").glob("*")) or not found:
            found.extend(packages.read_rpm(self.run))
        return tuple(found)

    def services(self) -> tuple[Service, ...]:
        return systemd.read_services(self.run)

    def removable_storage(self) -> tuple[StorageDevice, ...]:
        return read_removable_storage(self.sys, self.proc, self.udev)

    def usb_devices(self) -> tuple[UsbDevice, ...]:
        return read_usb_devices(self.sys)

    def media_history(self, since: dt.datetime | None) -> MediaHistory:
        journal_dirs = (
            self.root / "var" / "log" / "journal",
            self.root / "run" / "log" / "journal",
        )
        return read_media_history(since, self.run, self.root / "var" / "log", journal_dirs)

    def interface_info(self) -> Mapping[str, InterfaceInfo]:
        return netinfo.read_interface_info(self.sys)

    def routes(self) -> tuple[Route, ...]:
        return netinfo.read_routes(self.proc / "net")

    def may_have_external_connections(self) -> bool:
        return netinfo.any_external_socket(self.proc / "net")

    def dns_servers(self) -> tuple[str, ...]:
        return netinfo.read_dns_servers(self.etc, self.root / "run")

    def neighbours(self) -> tuple[Neighbour, ...]:
        try:
            return neighbours.parse_ip_neigh_json(self.run(neighbours.IP_NEIGH_ARGV))
        except CollectorError:
            return neighbours.read_proc_arp(self.proc / "net")  # no iproute2, or too old for -j

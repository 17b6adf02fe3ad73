"""The macOS adapter: the OS-specific facts of a Mac, from commands and the filesystem.

Its data sources are constructor arguments (a filesystem root and a command runner) so the
tests can replay recorded-format macOS output on any machine. Each method runs the commands it
needs when it is called: nothing is cached, because the agent's service loop keeps one adapter
for its whole life and USB sticks come and go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from agent.errors import CommandError
from agent.facts import Neighbour, Route, Service, Software, StorageDevice, UsbDevice
from agent.platforms.base import (
    CommandRunner,
    InterfaceInfo,
    MediaHistory,
    OsRelease,
    run_command,
)
from agent.platforms.macos import (
    apps,
    dns,
    host,
    interfaces,
    launchd,
    neighbours,
    routes,
    system_profiler,
    usb,
    usb_history,
)


class MacOSAdapter:
    name = "macos"

    def __init__(self, root: Path = Path("/"), run: CommandRunner | None = None) -> None:
        self._root = root
        self._run: CommandRunner = run if run is not None else run_command

    def os_release(self) -> OsRelease:
        return host.parse_os_release(
            self._run(host.SW_VERS_ARGV), self._run(host.UNAME_RELEASE_ARGV)
        )

    def machine_id(self) -> str:
        return host.parse_platform_uuid(self._run(host.IOREG_PLATFORM_ARGV))

    def fqdn(self, hostname: str) -> str:
        if "." in hostname:
            return hostname
        try:
            configured: str | None = self._run(host.SCUTIL_HOSTNAME_ARGV)
        except CommandError:
            configured = None  # "HostName: not set", exit status 1
        return host.choose_fqdn(hostname, configured)

    def disk_serials(self) -> tuple[str, ...]:
        return host.parse_disk_serials(
            self._run(host.DISKS_ARGV, timeout=system_profiler.SYSTEM_PROFILER_TIMEOUT)
        )

    def installed_software(self) -> tuple[Software, ...]:
        return apps.installed_applications(self._root)

    def services(self) -> tuple[Service, ...]:
        return launchd.parse_launchctl_list(self._run(launchd.LAUNCHCTL_LIST_ARGV))

    def removable_storage(self) -> tuple[StorageDevice, ...]:
        return usb.storage_devices(usb.read_usb_report(self._run))

    def usb_devices(self) -> tuple[UsbDevice, ...]:
        return usb.usb_devices(usb.read_usb_report(self._run))

    def media_history(self, since: dt.datetime | None) -> MediaHistory:
        """Kernel USB mass-storage lines of the unified log; an unreadable log is an error."""
        try:
            output = self._run(
                usb_history.log_show_argv(since), timeout=usb_history.LOG_SHOW_TIMEOUT
            )
        except CommandError as exc:
            return MediaHistory(
                events=(), source="", error=f"unified log not readable: {exc}", cause=exc.cause
            )
        return MediaHistory(
            events=usb_history.parse_usbmsc_events(output, since), source=usb_history.SOURCE
        )

    def interface_info(self) -> Mapping[str, InterfaceInfo]:
        ports = interfaces.parse_hardware_ports(self._run(interfaces.NETWORKSETUP_PORTS_ARGV))
        return interfaces.interface_info(self._run(interfaces.IFCONFIG_LIST_ARGV), ports)

    def routes(self) -> tuple[Route, ...]:
        return routes.parse_netstat_routes(self._run(routes.NETSTAT_ROUTES_ARGV))

    def may_have_external_connections(self) -> bool:
        return True  # no cheap pre-check here: psutil lists the connections

    def dns_servers(self) -> tuple[str, ...]:
        return dns.parse_scutil_dns(self._run(dns.SCUTIL_DNS_ARGV))

    def neighbours(self) -> tuple[Neighbour, ...]:
        return neighbours.read_neighbours(self._run)

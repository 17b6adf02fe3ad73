"""The Windows `PlatformAdapter`: the registry, PowerShell and psutil behind one object.

The data sources are constructor arguments so that tests replay recorded `reg export` files,
PowerShell JSON and psutil service records (see tests/fixtures/windows); by default the live
registry (`WinregRegistry`), `run_command`, `psutil.win_service_iter` and, for users who are
not logged on, their `NTUSER.DAT` read with regipy (`hivefile.open_user_hive`) are used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agent.facts import Neighbour, Route, Service, Software, StorageDevice, UsbDevice
from agent.platforms.base import CommandRunner, InterfaceInfo, MediaHistory, OsRelease, run_command
from agent.platforms.windows import (
    history,
    hivefile,
    host,
    neighbours,
    network,
    services,
    software,
    storage,
    usb,
)
from agent.platforms.windows.registry import RegistryView, WinregRegistry


class WindowsAdapter:
    name = "windows"

    def __init__(
        self,
        registry: RegistryView | None = None,
        run: CommandRunner | None = None,
        *,
        service_records: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
        user_hives: software.UserHiveOpener | None = None,
    ):
        self.registry: RegistryView = registry if registry is not None else WinregRegistry()
        self.run: CommandRunner = run if run is not None else run_command
        self.service_records: Callable[[], Iterable[Mapping[str, Any]]] = (
            service_records if service_records is not None else services.live_service_records
        )
        # Hive files of users who are not logged on; by default read with regipy.
        self.user_hives: software.UserHiveOpener = (
            user_hives if user_hives is not None else hivefile.open_user_hive
        )

    def os_release(self) -> OsRelease:
        return host.os_release(self.registry)

    def machine_id(self) -> str:
        return host.machine_id(self.registry)

    def fqdn(self, hostname: str) -> str:
        return host.fqdn(self.registry, hostname)

    def disk_serials(self) -> tuple[str, ...]:
        return host.disk_serials(self.run)

    def installed_software(self) -> tuple[Software, ...]:
        return software.installed_software(self.registry, self.user_hives)

    def services(self) -> tuple[Service, ...]:
        return services.services_from_records(self.service_records())

    def removable_storage(self) -> tuple[StorageDevice, ...]:
        return storage.removable_storage(self.run, self.registry)

    def usb_devices(self) -> tuple[UsbDevice, ...]:
        return usb.usb_devices(self.run)

    def media_history(self, since: dt.datetime | None) -> MediaHistory:
        return history.media_history(self.registry, since)

    def interface_info(self) -> Mapping[str, InterfaceInfo]:
        return network.interface_info(self.run)

    def routes(self) -> tuple[Route, ...]:
        return network.routes(self.run)

    def may_have_external_connections(self) -> bool:
        return True  # no cheap pre-check here: psutil lists the connections

    def dns_servers(self) -> tuple[str, ...]:
        return network.dns_servers(self.run)

    def neighbours(self) -> tuple[Neighbour, ...]:
        return neighbours.neighbours(self.run)

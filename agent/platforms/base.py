"""What every OS adapter provides: the OS-specific half of each collector.

Collectors read what psutil can give portably (users, processes, addresses, connections)
themselves and ask the adapter for everything else. Adapters take their data sources as
constructor arguments (a filesystem root, a command runner, a registry view) so that tests
can replay recorded real output of an OS that is not this one.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from agent.errors import Cause, CommandError, refusal_in
from agent.facts import (
    InterfaceKind,
    MediaEvent,
    Neighbour,
    Route,
    Service,
    Software,
    StorageDevice,
    UsbDevice,
)


@dataclass(frozen=True)
class OsRelease:
    name: str  # "Debian GNU/Linux", "Windows 11 Pro", "macOS"
    version: str  # "12", "10.0.22631", "14.4.1"
    kernel: str  # "6.1.0-18-amd64", "10.0.22631", "23.4.0"


@dataclass(frozen=True)
class InterfaceInfo:
    """What the OS says about an interface beyond its addresses."""

    kind: InterfaceKind
    driver: str = ""
    description: str = ""


@dataclass(frozen=True)
class MediaHistory:
    events: tuple[MediaEvent, ...]
    source: str  # "" when no source could be read
    error: str = ""  # why nothing could be read, when nothing could
    cause: Cause | None = None  # and the kind of reason (set with `error`)


class CommandRunner(Protocol):
    """Runs an OS command and returns its standard output as text."""

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> str: ...


def run_command(argv: Sequence[str], timeout: float = 10.0) -> str:
    """The real runner: no shell, bounded time, a failure becomes a CommandError whose cause
    says whether the command is missing, was refused, timed out or failed otherwise."""
    try:
        completed = subprocess.run(list(argv), capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise CommandError(argv, "command not found", Cause.COMMAND_MISSING) from exc
    except PermissionError as exc:
        raise CommandError(argv, "not allowed to run it", Cause.PERMISSION_DENIED) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(argv, f"timed out after {timeout:g} s", Cause.TIMED_OUT) from exc
    if completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", "replace").strip()
        lines = stderr.splitlines()
        raise CommandError(
            argv,
            f"exit status {completed.returncode}: {lines[-1] if lines else ''}",
            Cause.PERMISSION_DENIED if refusal_in(stderr) else Cause.FAILED,
        )
    return completed.stdout.decode("utf-8", "replace")


class PlatformAdapter(Protocol):
    """The OS-specific facts. Each method may raise CollectorError (or CommandError)."""

    name: str  # "linux" | "windows" | "macos"

    def os_release(self) -> OsRelease: ...

    def machine_id(self) -> str: ...

    def fqdn(self, hostname: str) -> str:
        """The fully qualified name as the OS configures it, without asking DNS."""
        ...

    def disk_serials(self) -> tuple[str, ...]: ...

    def installed_software(self) -> tuple[Software, ...]: ...

    def services(self) -> tuple[Service, ...]: ...

    def removable_storage(self) -> tuple[StorageDevice, ...]: ...

    def usb_devices(self) -> tuple[UsbDevice, ...]: ...

    def media_history(self, since: dt.datetime | None) -> MediaHistory: ...

    def interface_info(self) -> Mapping[str, InterfaceInfo]: ...

    def routes(self) -> tuple[Route, ...]: ...

    def may_have_external_connections(self) -> bool:
        """A cheap pre-check before the costly per-process socket listing; True if unsure."""
        ...

    def dns_servers(self) -> tuple[str, ...]: ...

    def neighbours(self) -> tuple[Neighbour, ...]:
        """The OS's IPv4 ARP and IPv6 neighbour tables as they are, read, never probed: MACs
        normalised (`agent.platforms.link_address`), states in lower case. The collector
        decides which entries a report may carry."""
        ...

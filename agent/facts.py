"""The inventory's data model: typed, frozen facts that collectors return.

Every collector and every OS adapter speaks these types, so the policy engine, the text
sheet and (later) the wire protocol never see OS-specific shapes. They are frozen because a
fact is an observation at one moment; nobody downstream may "fix" it in place.

`to_jsonable` turns any of them into plain JSON data with stable key names; those names are
part of the `custos-agent inventory --format json` contract.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.errors import Cause


class InterfaceKind(str, enum.Enum):
    """What kind of path out of the machine a network interface is."""

    WIRED = "wired"
    WIRELESS = "wireless"
    WWAN = "wwan"
    USB_TETHER = "usb-tether"
    VIRTUAL = "virtual"
    VPN = "vpn"
    LOOPBACK = "loopback"
    OTHER = "other"


class UsbClass(str, enum.Enum):
    """How a USB device presents itself; phones and cameras (MTP/PTP) never get a drive."""

    MASS_STORAGE = "mass-storage"
    PHONE_OR_CAMERA = "mtp-ptp"
    NETWORK = "network"
    HID = "hid"
    HUB = "hub"
    OTHER = "other"


# --- host -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetFields:
    """What the unit assigns to a machine in the agent config (check-sheet fields)."""

    machine_number: str = ""
    responsible_person: str = ""
    department: str = ""
    classification: str = ""
    purpose: str = ""

    def missing(self, required: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in required if not getattr(self, name, "").strip())


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    fqdn: str
    os_name: str
    os_version: str
    kernel: str
    platform: str  # "linux" | "windows" | "macos"
    machine_id: str
    mac_addresses: tuple[str, ...]
    ip_addresses: tuple[str, ...]  # not loopback, not link-local: what the unit's IP plan lists
    disk_serials: tuple[str, ...]
    users: tuple[str, ...]
    boot_time: dt.datetime | None
    agent_version: str
    asset: AssetFields = field(default_factory=AssetFields)


# --- software ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Software:
    name: str
    version: str
    publisher: str = ""
    install_date: str = ""  # as the OS records it, ISO date when it can be parsed
    source: str = ""  # "dpkg", "rpm", "registry:HKLM64", "registry:HKLM32", "registry:HKCU", "app"
    architecture: str = ""
    # Whose it is when installed for one user only (Windows per-user installs: the account
    # name, or the SID when the name is unknown); "" for machine-wide installs.
    owner: str = ""


# --- processes and services -------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    pid: int
    name: str
    exe: str
    user: str
    # No command lines on purpose: they carry passwords and tokens, and name + exe is enough
    # to tell whether a required client runs.


@dataclass(frozen=True)
class Service:
    name: str
    display_name: str
    state: str  # normalised: "running" | "stopped" | "failed" | "other"
    start_mode: str  # "auto" | "manual" | "disabled" | "other" | ""
    source: str  # "systemd" | "windows" | "launchd"
    raw_state: str = ""


# --- removable media --------------------------------------------------------------------


@dataclass(frozen=True)
class UsbDevice:
    """A USB device as the bus reports it; `serial` is empty when the device has none."""

    bus_path: str  # e.g. "2-1.4" on Linux, the device instance id on Windows
    vendor_id: str  # four lowercase hex digits
    product_id: str
    serial: str
    manufacturer: str
    product: str
    usb_class: UsbClass
    interface_classes: tuple[str, ...] = ()  # "08/06/50" style class/subclass/protocol
    driver: str = ""
    raw_serial: str = ""  # the serial as the OS wrote it, when normalising changed it

    @property
    def has_serial(self) -> bool:
        return bool(self.serial.strip())


@dataclass(frozen=True)
class StorageDevice:
    """Removable storage attached now: a block device on a USB bus (or marked removable)."""

    device: str  # "/dev/sdb", "\\\\.\\PHYSICALDRIVE2", "/dev/disk4"
    vendor_id: str
    product_id: str
    serial: str
    vendor: str
    model: str
    size_bytes: int
    removable: bool
    bus: str  # "usb", "mmc", ...
    mounts: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    filesystems: tuple[str, ...] = ()
    bus_path: str = ""
    raw_serial: str = ""  # the serial as the OS wrote it, when normalising changed it


@dataclass(frozen=True)
class MediaEvent:
    """One removable-device connection seen in the OS's history (kernel log, registry)."""

    time: dt.datetime | None  # first seen / connect time; None when the source has no time
    vendor_id: str
    product_id: str
    serial: str
    product: str
    manufacturer: str
    usb_class: UsbClass
    source: str  # "journal", "kern.log", "registry:USBSTOR", ...
    last_seen: dt.datetime | None = None
    bus_path: str = ""
    raw_serial: str = ""  # the serial as the OS wrote it, when normalising changed it


@dataclass(frozen=True)
class MediaFacts:
    storage: tuple[StorageDevice, ...]
    usb_devices: tuple[UsbDevice, ...]
    history: tuple[MediaEvent, ...]
    history_source: str  # where history came from, or "" when none was available
    history_since: dt.datetime | None
    history_error: str = ""  # why history could not be read, when it could not
    history_cause: Cause | None = None  # the kind of reason, with `history_error`


# --- network ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    family: str  # "ipv4" | "ipv6"
    address: str
    prefix_length: int


@dataclass(frozen=True)
class Interface:
    name: str
    kind: InterfaceKind
    is_up: bool
    mac: str
    addresses: tuple[Address, ...]
    driver: str = ""
    description: str = ""
    mtu: int = 0


@dataclass(frozen=True)
class Route:
    destination: str  # CIDR, "0.0.0.0/0" or "::/0" for default routes
    gateway: str
    interface: str
    metric: int
    family: str

    @property
    def is_default(self) -> bool:
        return self.destination in ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Connection:
    local_address: str
    local_port: int
    remote_address: str
    remote_port: int
    pid: int | None
    process_name: str
    protocol: str  # "tcp" | "udp"


@dataclass(frozen=True)
class NetworkFacts:
    interfaces: tuple[Interface, ...]
    routes: tuple[Route, ...]
    dns_servers: tuple[str, ...]
    connections: tuple[Connection, ...]  # established, to global addresses only

    @property
    def default_routes(self) -> tuple[Route, ...]:
        return tuple(route for route in self.routes if route.is_default)


@dataclass(frozen=True)
class Neighbour:
    """One entry of the machine's IPv4 ARP or IPv6 neighbour table: a device on the same LAN
    that this PC talked to. Read from the table the OS keeps anyway; nothing is sent to find
    them."""

    family: str  # "ipv4" | "ipv6"
    address: str
    mac: str  # "aa:bb:cc:dd:ee:ff" (lower case, two digits per byte)
    interface: str
    state: str  # normalised: "reachable" | "stale" | "delay" | "probe" | "permanent" | ...


@dataclass(frozen=True)
class NeighbourFacts:
    """The neighbours a report may carry: only addresses inside `networks` (the policy's
    allowed networks, the unit's own LAN), at most `agent.collectors.neighbours.MAX_ENTRIES`,
    the rest counted in `left_out`. `networks` is None when nothing limited the list (the
    local `inventory` command, which has no policy)."""

    entries: tuple[Neighbour, ...]
    networks: tuple[str, ...] | None
    left_out: int = 0


# --- egress probes ----------------------------------------------------------------------


class ProbeOutcome(str, enum.Enum):
    REACHED = "reached"  # answered, and the answer proved who answered (or no proof was asked)
    UNVERIFIED = "unverified"  # something answered but could not prove it is the responder
    UNREACHABLE = "unreachable"  # refused, unroutable, timed out, name not resolved
    ERROR = "error"  # the probe itself could not run (bad configuration, local failure)


@dataclass(frozen=True)
class ProbeResult:
    probe_id: str
    kind: str  # "http" | "https" | "tcp" | "dns"
    target: str
    outcome: ProbeOutcome
    elapsed_ms: float
    detail: str  # what answered / why it failed, for evidence
    verified: bool = False  # a responder signature over our nonce checked out


# --- the whole inventory ----------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """What `custos-agent inventory` prints; a collector that failed leaves None, an error
    (what went wrong, in the source's own words) and its cause (the kind of reason)."""

    host: HostFacts | None
    software: tuple[Software, ...] | None
    processes: tuple[Process, ...] | None
    services: tuple[Service, ...] | None
    media: MediaFacts | None
    network: NetworkFacts | None
    collected_at: dt.datetime
    agent_version: str
    errors: Mapping[str, str] = field(default_factory=dict)
    neighbours: NeighbourFacts | None = None
    causes: Mapping[str, Cause] = field(default_factory=dict)

    def cause(self, source: str) -> Cause:
        """Why `source` (a collector's name) is missing; FAILED when nobody said."""
        return self.causes.get(source, Cause.FAILED)


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for any fact: enums by value, datetimes as ISO 8601 with offset."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    return value

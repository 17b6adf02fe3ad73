"""USB devices and the disks on them, from system_profiler's USB reports.

Two report shapes exist:

- `SPUSBDataType` (macOS 13 and 14 at least; reported empty or gone from macOS 26 on):
  keys `vendor_id` ("0x0781  (SanDisk Corporation)", or the literal "apple_vendor_id" for
  Apple's own devices), `product_id`, `serial_num` (absent when the device has none),
  `manufacturer`, `location_id` ("0x01100000 / 2"), and for storage a `Media` list with
  `bsd_name`, `removable_media`, `size_in_bytes` and `volumes` (`_name`, `file_system`,
  `mount_point`).
- `SPUSBHostDataType` (newer macOS): keys `USBDeviceKeyVendorID` ("0x0781"),
  `USBDeviceKeyProductID`, `USBDeviceKeySerialNumber` ("Not Provided" when there is none),
  `USBDeviceKeyVendorName`, `USBKeyLocationID`. Public captures of it carry no `Media`: it
  does not say which disk belongs to which device.

The older shape is read whenever it lists any bus, because only it links a stick to its disk;
the host shape is the fallback where the older one is gone. With only the host shape, attached
devices are still listed but their disks cannot be, and `storage_devices` says so instead of
returning an empty (falsely reassuring) list, unless no USB device is attached at all.

system_profiler gives no interface classes, so the class of a device is decided from what it
does give, in this order: a device with `Media` is mass storage; Apple's iPhone/iPad/iPod, a
name saying MTP/PTP/Android, or a vendor id used only by phone makers is a phone; then names
("hub", "keyboard"/"mouse"/"trackpad", "LAN"/"Ethernet") make it a hub, HID or network device;
anything else is "other".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from agent.errors import CollectorError, CommandError
from agent.facts import StorageDevice, UsbClass, UsbDevice
from agent.platforms.base import CommandRunner
from agent.platforms.macos import system_profiler
from agent.platforms.macos.system_profiler import Item
from agent.platforms.usb_classes import classify_usb, normalise_hex_id

LEGACY: Final = "SPUSBDataType"
HOST: Final = "SPUSBHostDataType"
LEGACY_ARGV = (system_profiler.SYSTEM_PROFILER, LEGACY, "-json")
HOST_ARGV = (system_profiler.SYSTEM_PROFILER, HOST, "-json")

APPLE_VENDOR_ID = "05ac"
_APPLE_MOBILE_NAMES = ("iphone", "ipad", "ipod")
# Vendor ids that Android phone makers use for their phones and nothing else attachable to a
# PC (Google, Xiaomi, OPPO, vivo, OnePlus). Huawei, ZTE and Samsung are absent on purpose:
# their ids also cover 4G modems, disks and monitors.
_PHONE_VENDOR_IDS = frozenset({"18d1", "2717", "22d9", "2d95", "2a70"})
_PHONE_WORDS = ("android", "ptp")
_HID_WORDS = ("keyboard", "mouse", "trackpad")
_NETWORK_WORDS = ("lan", "ethernet")
_NOT_PROVIDED = frozenset({"not provided", "not_provided"})


@dataclass(frozen=True)
class UsbReport:
    shape: Literal["SPUSBDataType", "SPUSBHostDataType"]
    buses: list[Item]


def read_usb_report(run: CommandRunner) -> UsbReport:
    """The older report when it lists buses, else the host report (see the module docstring)."""
    legacy: list[Item] | None = None
    legacy_error: CommandError | None = None
    try:
        legacy = system_profiler.report_items(
            run(LEGACY_ARGV, timeout=system_profiler.SYSTEM_PROFILER_TIMEOUT), LEGACY
        )
    except CommandError as exc:
        legacy_error = exc
    if legacy:
        return UsbReport(LEGACY, legacy)
    try:
        host = system_profiler.report_items(
            run(HOST_ARGV, timeout=system_profiler.SYSTEM_PROFILER_TIMEOUT), HOST
        )
    except CommandError:
        if legacy is not None:
            return UsbReport(LEGACY, legacy)
        raise
    if host:
        return UsbReport(HOST, host)
    if legacy is not None:
        return UsbReport(LEGACY, legacy)
    if host is not None:
        return UsbReport(HOST, host)
    if legacy_error is not None:
        raise legacy_error
    raise CollectorError(f"system_profiler reports neither {LEGACY} nor {HOST}")


@dataclass(frozen=True)
class _Node:
    """One device of either report shape, in the shape-independent terms used below."""

    vendor_id: str
    vendor_name: str
    product_id: str
    serial: str
    product: str
    location: str
    media: list[Item]


def _legacy_vendor(value: str) -> tuple[str, str]:
    """'0x0781  (SanDisk Corporation)' -> ('0781', 'SanDisk Corporation')."""
    if value == "apple_vendor_id":
        return APPLE_VENDOR_ID, "Apple Inc."
    number, _, rest = value.partition(" ")
    name = rest.strip().removeprefix("(").removesuffix(")").strip()
    return (normalise_hex_id(number) if number else ""), name


def _serial(value: str) -> str:
    return "" if value.lower() in _NOT_PROVIDED else value


def _media(item: Item) -> list[Item]:
    media = item.get("Media")
    if not isinstance(media, list):
        return []
    return [entry for entry in media if isinstance(entry, dict)]


def _legacy_node(item: Item) -> _Node | None:
    vendor_text = system_profiler.text(item, "vendor_id")
    product_text = system_profiler.text(item, "product_id")
    if not vendor_text and not product_text:
        return None  # a bus, not a device
    vendor_id, vendor_from_id = _legacy_vendor(vendor_text)
    return _Node(
        vendor_id=vendor_id,
        vendor_name=system_profiler.text(item, "manufacturer") or vendor_from_id,
        product_id=normalise_hex_id(product_text) if product_text else "",
        serial=_serial(system_profiler.text(item, "serial_num")),
        product=system_profiler.text(item, "_name"),
        location=system_profiler.text(item, "location_id").split("/")[0].strip(),
        media=_media(item),
    )


def _host_node(item: Item) -> _Node | None:
    vendor_text = system_profiler.text(item, "USBDeviceKeyVendorID")
    product_text = system_profiler.text(item, "USBDeviceKeyProductID")
    if not vendor_text and not product_text:
        return None
    return _Node(
        vendor_id=normalise_hex_id(vendor_text) if vendor_text else "",
        vendor_name=system_profiler.text(item, "USBDeviceKeyVendorName"),
        product_id=normalise_hex_id(product_text) if product_text else "",
        serial=_serial(system_profiler.text(item, "USBDeviceKeySerialNumber")),
        product=system_profiler.text(item, "_name"),
        location=system_profiler.text(item, "USBKeyLocationID"),
        media=_media(item),
    )


def _nodes(report: UsbReport) -> list[_Node]:
    to_node = _legacy_node if report.shape == LEGACY else _host_node
    nodes = (to_node(item) for item in system_profiler.walk(report.buses))
    return [node for node in nodes if node is not None]


def classify(node: _Node) -> UsbClass:
    """The rule in the module docstring; names are matched case-insensitively."""
    if node.media:
        return UsbClass.MASS_STORAGE
    product = node.product.lower()
    names = f"{product} {node.vendor_name.lower()}"
    if node.vendor_id == APPLE_VENDOR_ID and product.startswith(_APPLE_MOBILE_NAMES):
        return UsbClass.PHONE_OR_CAMERA
    if (
        node.vendor_id in _PHONE_VENDOR_IDS
        or any(word in names for word in _PHONE_WORDS)
        or classify_usb((), (node.product, node.vendor_name)) is UsbClass.PHONE_OR_CAMERA
    ):
        return UsbClass.PHONE_OR_CAMERA
    if "hub" in product:
        return UsbClass.HUB
    if any(word in product for word in _HID_WORDS):
        return UsbClass.HID
    if any(word in product.split() for word in _NETWORK_WORDS):
        return UsbClass.NETWORK
    return UsbClass.OTHER


def usb_devices(report: UsbReport) -> tuple[UsbDevice, ...]:
    return tuple(
        UsbDevice(
            bus_path=node.location,
            vendor_id=node.vendor_id,
            product_id=node.product_id,
            serial=node.serial,
            manufacturer=node.vendor_name,
            product=node.product,
            usb_class=classify(node),
        )
        for node in _nodes(report)
    )


def _volume_facts(volumes: list[Item]) -> tuple[tuple[str, ...], ...]:
    mounts: list[str] = []
    labels: list[str] = []
    filesystems: list[str] = []
    for volume in volumes:
        mount = system_profiler.text(volume, "mount_point")
        label = system_profiler.text(volume, "_name")
        filesystem = system_profiler.text(volume, "file_system")
        if mount:
            mounts.append(mount)
        # Unnamed volumes are listed under their device name ("disk4s2"): not a label.
        if label and label != system_profiler.text(volume, "bsd_name"):
            labels.append(label)
        if filesystem and filesystem not in filesystems:
            filesystems.append(filesystem)
    return tuple(mounts), tuple(labels), tuple(filesystems)


def storage_devices(report: UsbReport) -> tuple[StorageDevice, ...]:
    if report.shape == HOST:
        if not _nodes(report):
            return ()  # no USB device at all, so certainly no USB disk
        raise CollectorError(
            f"only system_profiler {HOST} is available, and it does not link USB devices to "
            "their disks (no Media key); removable storage cannot be listed on this macOS"
        )
    found: list[StorageDevice] = []
    for node in _nodes(report):
        for medium in node.media:
            bsd_name = system_profiler.text(medium, "bsd_name")
            if not bsd_name:
                continue
            volumes = medium.get("volumes")
            mounts, labels, filesystems = _volume_facts(
                [volume for volume in volumes if isinstance(volume, dict)]
                if isinstance(volumes, list)
                else []
            )
            found.append(
                StorageDevice(
                    device=f"/dev/{bsd_name}",
                    vendor_id=node.vendor_id,
                    product_id=node.product_id,
                    serial=node.serial,
                    vendor=node.vendor_name,
                    model=node.product,
                    size_bytes=system_profiler.integer(medium, "size_in_bytes"),
                    removable=system_profiler.text(medium, "removable_media").lower() == "yes",
                    bus="usb",
                    mounts=mounts,
                    labels=labels,
                    filesystems=filesystems,
                    bus_path=node.location,
                )
            )
    return tuple(found)

"""Windows device instance ids, and how a storage device finds the USB device it sits on.

A device instance id is `<enumerator>\\<hardware part>\\<instance part>`:

    USB\\VID_0781&PID_5567\\4C530001230521112345           a USB device; the instance part
                                                          is its iSerialNumber
    USB\\VID_2717&PID_FF48&MI_00\\7&1D5F8A3B&0&0000        interface 0 of a composite device
    USBSTOR\\DISK&VEN_SANDISK&PROD_CRUZER_BLADE&REV_1.00\\4C530001230521112345&0
                                                          the disk on that USB device (LUN 0)

When a device reports no (usable) serial, Windows makes the instance part up from its
parent's ParentIdPrefix, so the second character is `&` (`7&2a3b4c5d&0&_&0`): such a device
has NO serial, and reporting the made-up id as one would make every cheap stick "unique".
The same ParentIdPrefix, stored on the USB device's own key under Enum\\USB, is what links
a made-up USBSTOR or MI_xx child back to its USB device (and so to VID, PID and serial).

A UAS disk (a fast external SSD) is different: its disk lives under Enum\\SCSI with a made-up
id, and its USB device's key has no ParentIdPrefix at all (a real Windows 10 1709 hive). The
one link between the two is ContainerID, the GUID Windows gives every function of one
physical device; `UsbRegistry.by_container` follows it.

Serials are normalised (`agent.usb_serial`: Windows' `MSFT30` prefix dropped) so that a stick
has one serial on every OS; `raw_serial_of` keeps the text as Windows wrote it, as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.platforms.usb_classes import normalise_hex_id
from agent.platforms.windows.registry import RegistryView, RegValue, text_value
from agent.usb_serial import normalise_serial

ENUM = r"HKLM\SYSTEM\CurrentControlSet\Enum"
NULL_CONTAINER = "{00000000-0000-0000-ffff-ffffffffffff}"
_HARDWARE = re.compile(
    r"^VID_(?P<vid>[0-9A-F]{4})&PID_(?P<pid>[0-9A-F]{4})(?:&MI_(?P<mi>[0-9A-F]{2}))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class UsbId:
    vendor_id: str  # four lowercase hex digits
    product_id: str
    interface: str  # "00" for an MI_00 child, "" for the device itself
    instance: str  # the instance part as Windows wrote it


def parse_usb_hardware(hardware: str, instance: str = "") -> UsbId | None:
    """`VID_2717&PID_FF48&MI_00` (+ instance part) -> UsbId; None if not that shape."""
    match = _HARDWARE.match(hardware)
    if match is None:
        return None
    return UsbId(
        normalise_hex_id(match["vid"]),
        normalise_hex_id(match["pid"]),
        (match["mi"] or ""),
        instance,
    )


def parse_usb_instance_id(instance_id: str) -> UsbId | None:
    """`USB\\VID_0781&PID_5567\\4C53...` -> UsbId; None for other enumerators."""
    enumerator, _, rest = instance_id.partition("\\")
    hardware, _, instance = rest.partition("\\")
    if enumerator.upper() != "USB":
        return None
    return parse_usb_hardware(hardware, instance)


def is_made_up(instance: str) -> bool:
    """Did Windows invent this instance part because the device has no serial?"""
    return len(instance) > 1 and instance[1] == "&"


def raw_serial_of(instance: str) -> str:
    """The serial a USB device's instance part carries, as Windows wrote it; "" when the
    part was made up."""
    return "" if is_made_up(instance) else instance


def serial_of(instance: str) -> str:
    """The normalised serial of a USB device's instance part (see `agent.usb_serial`)."""
    return normalise_serial(raw_serial_of(instance))


def raw_storage_serial(instance: str) -> str:
    """The serial in a USBSTOR instance part: `4C53...2345&0` -> `4C53...2345` (the `&0`
    is the LUN); "" when the part was made up."""
    if is_made_up(instance):
        return ""
    serial, separator, lun = instance.rpartition("&")
    return serial if separator and lun.isdigit() else instance


def storage_serial(instance: str) -> str:
    """`raw_storage_serial`, normalised."""
    return normalise_serial(raw_storage_serial(instance))


def storage_vendor_product(hardware: str) -> tuple[str, str]:
    """`Disk&Ven_SanDisk&Prod_Cruzer_Blade&Rev_1.00` -> ("SanDisk", "Cruzer Blade")."""
    fields = {}
    for part in hardware.split("&")[1:]:
        name, _, value = part.partition("_")
        fields[name.casefold()] = value.replace("_", " ").strip()
    return fields.get("ven", ""), fields.get("prod", "")


def display_text(value: str) -> str:
    """Driver strings are often indirect, `@oem12.inf,%mfg%;Xiaomi`: keep the fallback text.
    Placeholders such as "(Standard disk drives)" name no manufacturer."""
    text = value.split(";", 1)[1] if value.startswith("@") and ";" in value else value
    text = text.strip()
    return "" if text.startswith("(") and text.endswith(")") else text


@dataclass(frozen=True)
class UsbNode:
    """A device (or interface) key under Enum\\USB, e.g. `VID_0781&PID_5567\\<serial>`."""

    hardware: str  # the key name: VID_0781&PID_5567(&MI_00)
    id: UsbId
    path: str  # registry path of the instance key
    values: Mapping[str, RegValue] = field(compare=False)

    def text(self, name: str) -> str:
        return text_value(self.values, name)

    @property
    def instance_id(self) -> str:
        return f"USB\\{self.hardware}\\{self.id.instance}"


class UsbRegistry:
    """Every device Windows has seen under Enum\\USB, indexed for parent look-ups.

    Reads the registry once; the attached-storage and the history reports both use it.
    """

    def __init__(self, registry: RegistryView) -> None:
        nodes = []
        base = f"{ENUM}\\USB"
        for hardware in registry.subkeys(base):
            for instance in registry.subkeys(f"{base}\\{hardware}"):
                usb_id = parse_usb_hardware(hardware, instance)
                if usb_id is None:  # ROOT_HUB30 and other keys without VID/PID
                    continue
                path = f"{base}\\{hardware}\\{instance}"
                nodes.append(UsbNode(hardware, usb_id, path, registry.values(path)))
        self.nodes: tuple[UsbNode, ...] = tuple(nodes)

    def parent_of(self, child_instance: str, container_id: str = "") -> UsbNode | None:
        """The USB device a child (USBSTOR/SCSI disk, MI_xx interface) belongs to.

        A child with a real serial shares it with its USB device; a made-up child id starts
        with the USB device's ParentIdPrefix; failing both (UAS disks), the child's
        ContainerID names its device.
        """
        folded = child_instance.casefold()
        serial = storage_serial(child_instance)
        for node in self.nodes:
            if node.id.interface:
                continue
            if serial and serial_of(node.id.instance) == serial:
                return node
            prefix = node.text("ParentIdPrefix").casefold()
            if prefix and folded.startswith(prefix + "&"):
                return node
        return self.by_container(container_id)

    def by_container(self, container_id: str) -> UsbNode | None:
        """The USB device (not an interface) of the physical device `container_id` names.
        The all-zero "null" container that Windows gives devices it counts as part of the
        computer joins nothing."""
        wanted = container_id.strip().casefold()
        if not wanted or wanted == NULL_CONTAINER:
            return None
        return next(
            (
                node
                for node in self.nodes
                if not node.id.interface and node.text("ContainerID").casefold() == wanted
            ),
            None,
        )


@dataclass(frozen=True)
class ScsiDisk:
    """A disk under Enum\\SCSI (`Disk&Ven_Samsung&Prod_Portable_SSD_T5\\<made-up id>`): where
    Windows files the disk of a UAS device, with the product's own name."""

    hardware: str
    instance: str
    path: str
    values: Mapping[str, RegValue] = field(compare=False)

    def text(self, name: str) -> str:
        return text_value(self.values, name)


def scsi_disks(registry: RegistryView) -> tuple[ScsiDisk, ...]:
    base = f"{ENUM}\\SCSI"
    found = []
    for hardware in registry.subkeys(base):
        if not hardware.casefold().startswith("disk&"):
            continue
        for instance in registry.subkeys(f"{base}\\{hardware}"):
            path = f"{base}\\{hardware}\\{instance}"
            found.append(ScsiDisk(hardware, instance, path, registry.values(path)))
    return tuple(found)


def scsi_disk_of(disks: tuple[ScsiDisk, ...], container_id: str) -> ScsiDisk | None:
    """The SCSI disk of the physical device `container_id` names (a UAS disk's)."""
    wanted = container_id.strip().casefold()
    if wanted == NULL_CONTAINER:
        return None
    return next(
        (disk for disk in disks if wanted and disk.text("ContainerID").casefold() == wanted), None
    )

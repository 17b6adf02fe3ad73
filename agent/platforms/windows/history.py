"""Removable devices this Windows machine has ever seen, from the Plug and Play registry keys.

Sources, all under HKLM\\SYSTEM\\CurrentControlSet\\Enum:
- `USBSTOR\\Disk&Ven_<v>&Prod_<p>&Rev_<r>\\<serial>&0`: every USB mass-storage disk (BOT);
  FriendlyName names it; VID/PID come from its USB device under `USB\\VID_xxxx&PID_yyyy`.
- `USB\\VID_xxxx&PID_yyyy\\<serial>` with Service UASPStor: USB disks that speak UAS (fast
  external SSDs); Windows files their disk under Enum\\SCSI, never under USBSTOR. The USB key
  only names the UAS driver ("USB Attached SCSI (UAS) Mass Storage Device"); the product's
  name is on the SCSI disk, found by the ContainerID both keys share.
- `USB\\VID_xxxx&PID_yyyy(&MI_xx)\\...` of setup class WPD: phones and cameras (MTP/PTP),
  which never get a drive letter and so never appear under USBSTOR.

Times: Windows 8 and later keep device properties under
`<instance>\\Properties\\{83da6326-97a6-4088-9453-a1923f573b29}\\NNNN` as the key's default
value, typed 0xFFFF0000 | DEVPROP_TYPE_FILETIME (reg export: `@=hex(ffff0010):<8 bytes>`,
confirmed on a real Windows 10 SYSTEM hive): 0064 install date, 0065 first install date,
0066 last arrival, 0067 last removal (UTC). They are not in the order their names suggest
(the same real hive has a last arrival before its first install date), so the event's first
seen is the earliest of the four and its last seen the latest.
Windows 7 has no such properties, and only LocalSystem may open them: there the instance
key's last-write time is the last seen (what forensic practice reads), and `time` is None.
Where nothing is known the event is still reported, and a `since` filter keeps it: a device
of unknown date may be a recent one.
Events from USBSTOR have source "registry:USBSTOR", those from Enum\\USB "registry:USB".
"""

from __future__ import annotations

import datetime as dt

from agent.facts import MediaEvent, UsbClass
from agent.platforms.base import MediaHistory
from agent.platforms.windows.device_ids import (
    ENUM,
    ScsiDisk,
    UsbNode,
    UsbRegistry,
    display_text,
    raw_serial_of,
    raw_storage_serial,
    scsi_disk_of,
    scsi_disks,
    serial_of,
    storage_serial,
    storage_vendor_product,
)
from agent.platforms.windows.registry import (
    REG_BINARY,
    REG_DEVPROP_FILETIME,
    RegistryAccessDeniedError,
    RegistryView,
    filetime_to_datetime,
    lookup,
    text_value,
)

SOURCE_USBSTOR = "registry:USBSTOR"
SOURCE_USB = "registry:USB"
DEVICE_TIMES = "{83da6326-97a6-4088-9453-a1923f573b29}"
INSTALL_DATE, FIRST_INSTALL_DATE, LAST_ARRIVAL, LAST_REMOVAL = "0064", "0065", "0066", "0067"
TIME_PROPERTIES = (INSTALL_DATE, FIRST_INSTALL_DATE, LAST_ARRIVAL, LAST_REMOVAL)
WPD_CLASS_GUID = "{eec5ad98-8080-425f-922a-dabf3de3f69a}"
# Windows 8+ types the value as a device property; plain binary is accepted as the same bytes.
_FILETIME_TYPES = frozenset({REG_DEVPROP_FILETIME, REG_BINARY})


def media_history(registry: RegistryView, since: dt.datetime | None) -> MediaHistory:
    usb = UsbRegistry(registry)
    disks = scsi_disks(registry)
    events = [*_usbstor_events(registry, usb), *_usb_events(registry, usb, disks)]
    kept = tuple(event for event in events if _seen_since(event, since))
    return MediaHistory(events=kept, source=SOURCE_USBSTOR)


def _seen_since(event: MediaEvent, since: dt.datetime | None) -> bool:
    """Filter by last seen, else first seen; an event without any time is always kept."""
    moment = event.last_seen or event.time
    return since is None or moment is None or moment >= since


def _raw_if_changed(raw: str, serial: str) -> str:
    return raw if raw != serial else ""


def _usbstor_events(registry: RegistryView, usb: UsbRegistry) -> list[MediaEvent]:
    base = f"{ENUM}\\USBSTOR"
    events = []
    for device in registry.subkeys(base):
        vendor, product = storage_vendor_product(device)
        for instance in registry.subkeys(f"{base}\\{device}"):
            path = f"{base}\\{device}\\{instance}"
            values = registry.values(path)
            parent = usb.parent_of(instance, text_value(values, "ContainerID"))
            first, last = device_times(registry, path)
            if first is None and last is None and parent is not None:
                first, last = device_times(registry, parent.path)
            raw = raw_serial_of(parent.id.instance) if parent else raw_storage_serial(instance)
            serial = serial_of(parent.id.instance) if parent else storage_serial(instance)
            events.append(
                MediaEvent(
                    time=first,
                    last_seen=last,
                    vendor_id=parent.id.vendor_id if parent else "",
                    product_id=parent.id.product_id if parent else "",
                    serial=serial,
                    product=text_value(values, "FriendlyName") or product,
                    manufacturer=vendor,
                    usb_class=UsbClass.MASS_STORAGE,
                    source=SOURCE_USBSTOR,
                    bus_path=parent.instance_id if parent else f"USBSTOR\\{device}\\{instance}",
                    raw_serial=_raw_if_changed(raw, serial),
                )
            )
    return events


def _usb_events(
    registry: RegistryView, usb: UsbRegistry, disks: tuple[ScsiDisk, ...]
) -> list[MediaEvent]:
    """UAS disks and WPD phones/cameras, which USBSTOR does not record."""
    events = []
    for node in usb.nodes:
        disk: ScsiDisk | None = None
        if node.text("Service").lower() == "uaspstor":
            usb_class = UsbClass.MASS_STORAGE
            disk = scsi_disk_of(disks, node.text("ContainerID"))
        elif (
            node.text("Class").upper() == "WPD" or node.text("ClassGUID").lower() == WPD_CLASS_GUID
        ):
            usb_class = UsbClass.PHONE_OR_CAMERA
        else:
            continue
        # An MTP interface (MI_00) has a made-up id; the serial is on the composite device.
        device: UsbNode = (usb.parent_of(node.id.instance) if node.id.interface else None) or node
        first, last = device_times(registry, device.path)
        product, manufacturer = _names(node, disk)
        serial = serial_of(device.id.instance)
        events.append(
            MediaEvent(
                time=first,
                last_seen=last,
                vendor_id=node.id.vendor_id,
                product_id=node.id.product_id,
                serial=serial,
                product=product,
                manufacturer=manufacturer,
                usb_class=usb_class,
                source=SOURCE_USB,
                bus_path=device.instance_id,
                raw_serial=_raw_if_changed(raw_serial_of(device.id.instance), serial),
            )
        )
    return events


def _names(node: UsbNode, disk: ScsiDisk | None) -> tuple[str, str]:
    """(product, manufacturer): a UAS disk's from its SCSI disk (`Samsung Portable SSD T5
    SCSI Disk Device`, vendor `Samsung`), anything else's from its own USB key."""
    if disk is not None:
        vendor, product = storage_vendor_product(disk.hardware)
        return disk.text("FriendlyName") or product, vendor
    return (
        display_text(node.text("FriendlyName") or node.text("DeviceDesc")),
        display_text(node.text("Mfg")),
    )


def device_times(
    registry: RegistryView, instance_path: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(first seen, last seen) of a device instance; see the module docstring."""
    times = [
        moment
        for prop in TIME_PROPERTIES
        if (moment := _property_time(registry, instance_path, prop)) is not None
    ]
    if times:
        return min(times), max(times)
    return None, registry.last_written(instance_path)


def _property_time(registry: RegistryView, instance_path: str, prop: str) -> dt.datetime | None:
    try:
        values = registry.values(f"{instance_path}\\Properties\\{DEVICE_TIMES}\\{prop}")
    except RegistryAccessDeniedError:
        return None
    value = lookup(values, "")
    if value is None or value.type not in _FILETIME_TYPES or not isinstance(value.data, bytes):
        return None
    if len(value.data) != 8:
        return None
    return filetime_to_datetime(int.from_bytes(value.data, "little"))

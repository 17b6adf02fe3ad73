"""Removable devices this Windows machine has ever seen, from the Plug and Play registry keys.

Sources, all under HKLM\\SYSTEM\\CurrentControlSet\\Enum:
- `USBSTOR\\Disk&Ven_<v>&Prod_<p>&Rev_<r>\\<serial>&0`: every USB mass-storage disk (BOT);
  FriendlyName names it; VID/PID come from its USB device under `USB\\VID_xxxx&PID_yyyy`.
- `USB\\VID_xxxx&PID_yyyy\\<serial>` with Service UASPStor: USB disks that speak UAS (fast
  external SSDs); Windows files their disk under Enum\\SCSI, never under USBSTOR.
- `USB\\VID_xxxx&PID_yyyy(&MI_xx)\\...` of setup class WPD: phones and cameras (MTP/PTP),
  which never get a drive letter and so never appear under USBSTOR.

Times: Windows 8 and later keep device properties under
`<instance>\\Properties\\{83da6326-97a6-4088-9453-a1923f573b29}\\NNNN` as the key's default
value, typed 0xFFFF0000 | DEVPROP_TYPE_FILETIME (reg export: `@=hex(ffff0010):<8 bytes>`):
0064 install date, 0065 first install date, 0066 last arrival, 0067 last removal (UTC).
Only LocalSystem may open those keys; where they are missing or unreadable (Windows 7,
an agent not running as LocalSystem) the event is still reported, with `time=None`, and a
`since` filter keeps it: a device of unknown date may be a recent one.
Events from USBSTOR have source "registry:USBSTOR", those from Enum\\USB "registry:USB".
"""

from __future__ import annotations

import datetime as dt

from agent.facts import MediaEvent, UsbClass
from agent.platforms.base import MediaHistory
from agent.platforms.windows.device_ids import (
    ENUM,
    UsbRegistry,
    display_text,
    serial_of,
    storage_serial,
    storage_vendor_product,
)
from agent.platforms.windows.registry import (
    REG_BINARY,
    REG_DEVPROP_FILETIME,
    RegistryAccessDeniedError,
    RegistryView,
    lookup,
    text_value,
)

SOURCE_USBSTOR = "registry:USBSTOR"
SOURCE_USB = "registry:USB"
DEVICE_TIMES = "{83da6326-97a6-4088-9453-a1923f573b29}"
INSTALL_DATE, FIRST_INSTALL_DATE, LAST_ARRIVAL = "0064", "0065", "0066"
WPD_CLASS_GUID = "{eec5ad98-8080-425f-922a-dabf3de3f69a}"
# Windows 8+ types the value as a device property; plain binary is accepted as the same bytes.
_FILETIME_TYPES = frozenset({REG_DEVPROP_FILETIME, REG_BINARY})
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


def media_history(registry: RegistryView, since: dt.datetime | None) -> MediaHistory:
    usb = UsbRegistry(registry)
    events = [*_usbstor_events(registry, usb), *_usb_events(registry, usb)]
    kept = tuple(event for event in events if _seen_since(event, since))
    return MediaHistory(events=kept, source=SOURCE_USBSTOR)


def _seen_since(event: MediaEvent, since: dt.datetime | None) -> bool:
    """Filter by last arrival, else first seen; an event without any time is always kept."""
    moment = event.last_seen or event.time
    return since is None or moment is None or moment >= since


def _usbstor_events(registry: RegistryView, usb: UsbRegistry) -> list[MediaEvent]:
    base = f"{ENUM}\\USBSTOR"
    events = []
    for device in registry.subkeys(base):
        vendor, product = storage_vendor_product(device)
        for instance in registry.subkeys(f"{base}\\{device}"):
            path = f"{base}\\{device}\\{instance}"
            parent = usb.parent_of(instance)
            first, last = _device_times(registry, path)
            events.append(
                MediaEvent(
                    time=first,
                    last_seen=last,
                    vendor_id=parent.id.vendor_id if parent else "",
                    product_id=parent.id.product_id if parent else "",
                    serial=serial_of(parent.id.instance) if parent else storage_serial(instance),
                    product=text_value(registry.values(path), "FriendlyName") or product,
                    manufacturer=vendor,
                    usb_class=UsbClass.MASS_STORAGE,
                    source=SOURCE_USBSTOR,
                    bus_path=parent.instance_id if parent else f"USBSTOR\\{device}\\{instance}",
                )
            )
    return events


def _usb_events(registry: RegistryView, usb: UsbRegistry) -> list[MediaEvent]:
    """UAS disks and WPD phones/cameras, which USBSTOR does not record."""
    events = []
    for node in usb.nodes:
        if node.text("Service").lower() == "uaspstor":
            usb_class = UsbClass.MASS_STORAGE
        elif (
            node.text("Class").upper() == "WPD" or node.text("ClassGUID").lower() == WPD_CLASS_GUID
        ):
            usb_class = UsbClass.PHONE_OR_CAMERA
        else:
            continue
        # An MTP interface (MI_00) has a made-up id; the serial is on the composite device.
        device = (usb.parent_of(node.id.instance) if node.id.interface else None) or node
        first, last = _device_times(registry, device.path)
        events.append(
            MediaEvent(
                time=first,
                last_seen=last,
                vendor_id=node.id.vendor_id,
                product_id=node.id.product_id,
                serial=serial_of(device.id.instance),
                product=display_text(node.text("FriendlyName") or node.text("DeviceDesc")),
                manufacturer=display_text(node.text("Mfg")),
                usb_class=usb_class,
                source=SOURCE_USB,
                bus_path=device.instance_id,
            )
        )
    return events


def _device_times(
    registry: RegistryView, instance_path: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(first seen, last arrival) of a device instance; None where not recorded/readable."""
    first = _property_time(registry, instance_path, FIRST_INSTALL_DATE) or _property_time(
        registry, instance_path, INSTALL_DATE
    )
    return first, _property_time(registry, instance_path, LAST_ARRIVAL)


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


def filetime_to_datetime(filetime: int) -> dt.datetime | None:
    """A FILETIME (100 ns ticks since 1601-01-01 UTC) as an aware datetime; 0 means unset."""
    if filetime <= 0:
        return None
    return _FILETIME_EPOCH + dt.timedelta(microseconds=filetime // 10)

"""USB devices attached now, from Plug and Play (`Get-PnpDevice -PresentOnly`).

Windows shows a composite device as one node `USB\\VID_x&PID_y\\<serial>` (driver usbccgp)
plus one node per function `USB\\VID_x&PID_y&MI_nn\\<made-up id>`; the function nodes carry
what the device really is: an Android phone's MTP function is setup class WPD, an iPhone's
PTP function has interface class 06, a tethering phone's RNDIS function is class Net.
So the functions are grouped under their device and the whole group is classified.

Function nodes do not name their device's serial, so they are grouped by VID/PID. Two
attached devices of the same model get the same functions, which is what classification
needs; each device keeps its own serial from its own node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.facts import UsbClass, UsbDevice
from agent.platforms.base import CommandRunner
from agent.platforms.usb_classes import classify_usb
from agent.platforms.windows.device_ids import (
    UsbId,
    display_text,
    parse_usb_instance_id,
    raw_serial_of,
    serial_of,
)
from agent.platforms.windows.powershell import JsonRecord, run_json

PNP_USB_DEVICES = (
    "Get-PnpDevice -PresentOnly | Where-Object InstanceId -like 'USB\\VID_*' | Select-Object "
    "InstanceId,FriendlyName,Class,Manufacturer,Service,CompatibleID | ConvertTo-Json"
)
# Compatible ids name the interface: USB\Class_08&SubClass_06&Prot_50 (device-level ones
# are USB\DevClass_..). USB\MS_COMP_MTP comes from an Android phone's MTP descriptor.
_INTERFACE_CLASS = re.compile(
    r"^USB\\Class_([0-9A-F]{2})&SubClass_([0-9A-F]{2})&Prot_([0-9A-F]{2})$", re.IGNORECASE
)
_PHONE_SETUP_CLASSES = frozenset({"wpd"})
_NETWORK_SETUP_CLASSES = frozenset({"net"})
_HID_SETUP_CLASSES = frozenset({"hidclass", "keyboard", "mouse"})


@dataclass
class _Group:
    node: JsonRecord
    id: UsbId
    functions: list[JsonRecord] = field(default_factory=list)


def usb_devices(run: CommandRunner) -> tuple[UsbDevice, ...]:
    groups: list[_Group] = []
    functions: list[tuple[UsbId, JsonRecord]] = []
    for record in run_json(run, PNP_USB_DEVICES):
        usb_id = parse_usb_instance_id(record.text("InstanceId"))
        if usb_id is None:
            continue
        if usb_id.interface:
            functions.append((usb_id, record))
        else:
            groups.append(_Group(record, usb_id))
    for usb_id, record in functions:
        owners = [group for group in groups if _same_model(group.id, usb_id)]
        for owner in owners:
            owner.functions.append(record)
        if not owners:  # its device node is not present: it stands for the device, no serial
            groups.append(_Group(record, UsbId(usb_id.vendor_id, usb_id.product_id, "", "")))
    return tuple(_device(group) for group in groups)


def _same_model(a: UsbId, b: UsbId) -> bool:
    return (a.vendor_id, a.product_id) == (b.vendor_id, b.product_id)


def _device(group: _Group) -> UsbDevice:
    nodes = [group.node, *group.functions]
    triples = sorted(
        {
            "/".join(part.lower() for part in match.groups())
            for node in nodes
            for compatible in node.texts("CompatibleID")
            if (match := _INTERFACE_CLASS.match(compatible))
        }
    )
    names = [
        text for node in nodes for text in (node.text("FriendlyName"), *node.texts("CompatibleID"))
    ]
    services = [node.text("Service").lower() for node in nodes if node.text("Service")]
    setup_classes = {node.text("Class").lower() for node in nodes}
    # A phone's own name ("Redmi Note 12", "Apple iPhone") is on its WPD node.
    named = [node for node in nodes if node.text("Class").lower() in _PHONE_SETUP_CLASSES]
    manufacturers = [display_text(node.text("Manufacturer")) for node in nodes]
    serial, raw = serial_of(group.id.instance), raw_serial_of(group.id.instance)
    return UsbDevice(
        bus_path=group.node.text("InstanceId"),
        vendor_id=group.id.vendor_id,
        product_id=group.id.product_id,
        serial=serial,
        manufacturer=next((name for name in manufacturers if name), ""),
        product=(named or [group.node])[0].text("FriendlyName"),
        usb_class=_classify(triples, names, services, setup_classes),
        interface_classes=tuple(triples),
        driver=group.node.text("Service").lower(),
        raw_serial=raw if raw != serial else "",
    )


def _classify(
    triples: list[str], names: list[str], services: list[str], setup_classes: set[str]
) -> UsbClass:
    """A WPD function makes a phone or camera whatever its interface class (some phones
    show only vendor-specific ones); otherwise the portable classifier decides, and Windows'
    setup classes settle what it leaves as "other": a Net function behind vendor-specific or
    MBIM interfaces is a network path, a HIDClass one beside a vendor interface is HID."""
    if setup_classes & _PHONE_SETUP_CLASSES:
        return UsbClass.PHONE_OR_CAMERA
    found = classify_usb(triples, names, services)
    if found is UsbClass.OTHER and setup_classes & _NETWORK_SETUP_CLASSES:
        return UsbClass.NETWORK
    if found is UsbClass.OTHER and setup_classes & _HID_SETUP_CLASSES:
        return UsbClass.HID
    return found

"""Classify a USB device by its interfaces, the same way on every OS.

Why interfaces and not the device class: most devices report class 00 ("see interfaces"), and
one phone shows mass-storage, MTP and RNDIS interfaces depending on the mode its user picked.
Codes: https://www.usb.org/defined-class-codes (08 mass storage, 06 still image = PTP/MTP,
02/0a CDC, e0/01/03 and ef/04/01 RNDIS, 03 HID, 09 hub).
"""

from __future__ import annotations

from collections.abc import Iterable

from agent.facts import UsbClass

# Kernel/Windows drivers that turn a USB device into a network path out of the machine.
TETHER_DRIVERS = frozenset({"rndis_host", "cdc_ether", "cdc_ncm", "ipheth", "cdc_eem", "usbnet"})
WWAN_DRIVERS = frozenset({"qmi_wwan", "cdc_mbim", "option", "huawei_cdc_ncm", "sierra_net"})
NETWORK_DRIVERS = TETHER_DRIVERS | WWAN_DRIVERS


def normalise_hex_id(value: str) -> str:
    """'0x0781', '0781', '781' -> '0781'; anything unparsable comes back lower-cased as is."""
    text = value.strip().lower().removeprefix("0x")
    try:
        return f"{int(text, 16):04x}"
    except ValueError:
        return text


def classify_usb(
    interface_classes: Iterable[str],
    interface_names: Iterable[str] = (),
    drivers: Iterable[str] = (),
) -> UsbClass:
    """interface_classes holds 'cc/ss/pp' hex triples (class/subclass/protocol)."""
    triples = [tuple(part.lower() for part in item.split("/")) for item in interface_classes]
    classes = {triple[0] for triple in triples if triple}
    names = " ".join(interface_names).upper()
    driver_set = {driver.lower() for driver in drivers}
    # Phones first: an Android phone in "file transfer" mode shows a vendor-specific (ff)
    # interface named "MTP"; cameras and iPhones use the still-image class (06).
    if "06" in classes or "MTP" in names:
        return UsbClass.PHONE_OR_CAMERA
    if "08" in classes:
        return UsbClass.MASS_STORAGE
    rndis = any(t[:3] in {("e0", "01", "03"), ("ef", "04", "01")} for t in triples if len(t) == 3)
    if rndis or driver_set & NETWORK_DRIVERS or ("02" in classes and "0a" in classes):
        return UsbClass.NETWORK
    if classes == {"09"}:
        return UsbClass.HUB
    if classes and classes <= {"03"}:
        return UsbClass.HID
    return UsbClass.OTHER

"""Hardware (link-layer) addresses as every OS prints them, in one spelling.

Linux writes "52:54:00:0a:0b:0c", Windows "52-54-00-0A-0B-0C", macOS and the BSDs drop
leading zeros ("52:54:0:a:b:c"). Reports carry "52:54:00:0a:0b:0c" so the server can compare
what different agents and imports saw as equal strings. Only 48-bit (Ethernet, Wi-Fi)
addresses are neighbours here: an InfiniBand or tunnel "address" is None.
"""

from __future__ import annotations

import re

_GROUPS = re.compile(r"[0-9a-f]{1,2}(?:[:-][0-9a-f]{1,2}){5}")


def normalise_link_address(text: str) -> str | None:
    """`text` as "aa:bb:cc:dd:ee:ff", or None when it is no 48-bit hardware address."""
    value = text.strip().lower()
    if not _GROUPS.fullmatch(value):
        return None
    return ":".join(group.rjust(2, "0") for group in re.split(r"[:-]", value))


def is_device_address(mac: str) -> bool:
    """Whether a normalised address names one network card: not all-zero, and not a group
    address (broadcast ff:ff:…, IPv4 multicast 01:00:5e:…, IPv6 multicast 33:33:…), which
    have the least significant bit of the first byte set."""
    return mac != "00:00:00:00:00:00" and not int(mac[:2], 16) & 1

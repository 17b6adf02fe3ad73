"""Who made a network card, from its MAC's OUI, by the IEEE registry that netaddr ships.

netaddr bundles the IEEE MA-L ("OUI") registry (`netaddr/eui/oui.txt`, with an index it
builds), so the lookup needs no network and no hand-made table; a newer netaddr release brings
a newer registry. A locally administered address (second-least significant bit of the first
byte set: randomised Wi-Fi MACs of phones, virtual machines, containers) has no OUI: it is
named as such rather than looked up, since a registry hit on it would be a coincidence.
"""

from __future__ import annotations

import functools

from netaddr import EUI, NotRegisteredError
from netaddr.core import AddrFormatError

LOCALLY_ADMINISTERED = "locally administered"


def is_locally_administered(mac: str) -> bool:
    return bool(int(mac[:2], 16) & 0x02)


@functools.lru_cache(maxsize=8192)
def vendor_of(mac: str) -> str:
    """The registered organisation of `mac`'s OUI ("Intel Corporate"), LOCALLY_ADMINISTERED,
    or "" when the OUI is not in the registry."""
    if is_locally_administered(mac):
        return LOCALLY_ADMINISTERED
    try:
        return str(EUI(mac).oui.registration()["org"]).strip()
    except (NotRegisteredError, AddrFormatError, IndexError, ValueError):
        return ""

"""LAN neighbours: the devices this PC's ARP and IPv6 neighbour tables know, for the server's
list of devices on the unit's network that nobody registered (网内未注册设备).

Nothing is sent to find them: the tables are what the OS keeps anyway from the traffic the PC
has. What a report may carry is limited, because a laptop also sits on home and hotel
networks and those devices are none of the unit's business:
- only addresses inside the policy's allowed networks (`CollectContext.neighbour_networks`;
  a policy that names none gets no neighbours reported);
- only entries that name one other device: a unicast hardware address that is not one of
  this PC's own (macOS lists its own IPv6 addresses in `ndp`), not an incomplete, failed or
  unreachable entry, not a multicast, loopback or unspecified IP address;
- at most MAX_ENTRIES, in address order, the rest counted in `left_out`.
Entries are sorted so that an unchanged table gives the same list (and state hash).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable

import psutil

from agent.collectors.base import CollectContext
from agent.facts import Neighbour, NeighbourFacts
from agent.platforms.link_address import is_device_address, normalise_link_address
from agent.policy.model import IpNetwork

NAME = "neighbours"
MAX_ENTRIES = 256
# States in which the table does not (or no longer) vouch for the hardware address.
NO_DEVICE_STATES = frozenset({"incomplete", "failed", "unreachable"})

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(entry: Neighbour) -> IpAddress | None:
    try:
        address = ipaddress.ip_address(entry.address)
    except ValueError:
        return None
    if address.is_multicast or address.is_loopback or address.is_unspecified:
        return None
    return address


def own_link_addresses() -> frozenset[str]:
    """The hardware addresses of this machine's own interfaces."""
    found = set()
    for snics in psutil.net_if_addrs().values():
        for snic in snics:
            if snic.family == psutil.AF_LINK and snic.address:
                mac = normalise_link_address(snic.address)
                if mac is not None:
                    found.add(mac)
    return frozenset(found)


def select(
    entries: Iterable[Neighbour],
    networks: tuple[IpNetwork, ...] | None,
    own: Collection[str] = frozenset(),
    limit: int = MAX_ENTRIES,
) -> NeighbourFacts:
    """The entries a report may carry (see the module docstring); `networks` None: all."""
    kept: dict[tuple[int, int, str], Neighbour] = {}
    for entry in entries:
        address = _address(entry)
        if address is None or entry.state in NO_DEVICE_STATES or not is_device_address(entry.mac):
            continue
        if entry.mac in own:
            continue
        if networks is not None and not any(address in network for network in networks):
            continue
        key = (address.version, int(address), entry.mac)
        kept.setdefault(
            key, Neighbour(entry.family, str(address), entry.mac, entry.interface, entry.state)
        )
    ordered = [kept[key] for key in sorted(kept)]
    return NeighbourFacts(
        entries=tuple(ordered[:limit]),
        networks=None if networks is None else tuple(str(network) for network in networks),
        left_out=max(0, len(ordered) - limit),
    )


def collect(ctx: CollectContext) -> NeighbourFacts:
    networks = ctx.neighbour_networks
    if networks is not None and not networks:
        return NeighbourFacts(entries=(), networks=())  # nothing is the unit's network
    return select(ctx.platform.neighbours(), networks, own_link_addresses())

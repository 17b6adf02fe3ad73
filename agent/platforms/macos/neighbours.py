"""The neighbour tables of macOS: `arp -an` (IPv4) and `ndp -an` (IPv6).

`arp -an` prints one line per entry, e.g.

    ? (192.168.1.1) at 0:1b:21:3a:4f:5c on en0 ifscope [ethernet]
    ? (192.168.1.23) at (incomplete) on en0 ifscope [ethernet]
    ? (224.0.0.251) at 1:0:5e:0:0:fb on en0 ifscope permanent [ethernet]

with hardware addresses whose leading zeros are dropped, "permanent" for static entries and
no state otherwise. `ndp -an` prints a header and then columns Neighbor (link-local ones
with a zone, "fe80::1%en0"), Linklayer Address, Netif, Expire ("23h59m58s", "permanent",
"expired"), state letter (N nostate, W waitdelete, I incomplete, R reachable, S stale,
D delay, P probe, ? unknown), flags (R router, p proxy) and the probe count.
"""

from __future__ import annotations

import re

from agent.errors import CommandError
from agent.facts import Neighbour
from agent.platforms.base import CommandRunner
from agent.platforms.link_address import normalise_link_address

ARP_ARGV = ("/usr/sbin/arp", "-an")
NDP_ARGV = ("/usr/sbin/ndp", "-an")
_ARP_LINE = re.compile(r"^\S+ \((?P<address>[0-9.]+)\) at (?P<mac>\S+)(?: on (?P<netif>\S+))?")
_NDP_STATES = {
    "N": "nostate",
    "W": "waitdelete",
    "I": "incomplete",
    "R": "reachable",
    "S": "stale",
    "D": "delay",
    "P": "probe",
}


def parse_arp(output: str) -> tuple[Neighbour, ...]:
    found = []
    for line in output.splitlines():
        match = _ARP_LINE.match(line.strip())
        if match is None:
            continue
        mac = normalise_link_address(match["mac"])
        if mac is None:  # "(incomplete)"
            continue
        state = "permanent" if " permanent" in line else ""
        found.append(Neighbour("ipv4", match["address"], mac, match["netif"] or "", state))
    return tuple(found)


def parse_ndp(output: str) -> tuple[Neighbour, ...]:
    found = []
    for line in output.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            continue
        address, lladdr, netif, expire = fields[:4]
        mac = normalise_link_address(lladdr)
        if mac is None:
            continue
        letter = fields[4] if len(fields) > 4 and len(fields[4]) == 1 else ""
        state = "permanent" if expire == "permanent" else _NDP_STATES.get(letter, "")
        found.append(Neighbour("ipv6", address.split("%", 1)[0], mac, netif, state))
    return tuple(found)


def read_neighbours(run: CommandRunner) -> tuple[Neighbour, ...]:
    """Both tables; a Mac without IPv6 (ndp failing) still gives its ARP table."""
    ipv4 = parse_arp(run(ARP_ARGV))
    try:
        ipv6 = parse_ndp(run(NDP_ARGV))
    except CommandError:
        ipv6 = ()
    return ipv4 + ipv6

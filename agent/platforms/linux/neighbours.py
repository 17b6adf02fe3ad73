"""The kernel's neighbour tables (IPv4 ARP and IPv6 neighbour discovery) on Linux.

`ip -j neigh show` asks the kernel over netlink for both families at once, with each entry's
NUD state; it is the network namespace the agent runs in that answers. Where `ip` is missing
(a minimal install without iproute2), /proc/net/arp still gives the IPv4 table, without
states beyond "permanent".
"""

from __future__ import annotations

import json
from pathlib import Path

from agent.errors import CollectorError
from agent.facts import Neighbour
from agent.platforms.link_address import normalise_link_address

IP_NEIGH_ARGV = ("ip", "-j", "neigh", "show")
_ATF_COM = 0x2  # completed entry (has a hardware address)
_ATF_PERM = 0x4  # permanent entry


def _family(address: str) -> str:
    return "ipv6" if ":" in address else "ipv4"


def parse_ip_neigh_json(output: str) -> tuple[Neighbour, ...]:
    """Entries of `ip -j neigh show`; those without a hardware address (INCOMPLETE, FAILED)
    are left out, since they name no device."""
    try:
        document = json.loads(output or "[]")
    except json.JSONDecodeError as exc:
        raise CollectorError(f"`ip -j neigh show` printed no JSON: {exc}") from exc
    if not isinstance(document, list):
        raise CollectorError("`ip -j neigh show` printed JSON that is not a list")
    found = []
    for entry in document:
        if not isinstance(entry, dict):
            continue
        address, lladdr = entry.get("dst"), entry.get("lladdr")
        if not isinstance(address, str) or not isinstance(lladdr, str):
            continue
        mac = normalise_link_address(lladdr)
        if mac is None:
            continue
        states = entry.get("state")
        # iproute2 writes the NUD state as a list of flags (["REACHABLE"]); older builds a string.
        state = states[0] if isinstance(states, list) and states else states
        found.append(
            Neighbour(
                family=_family(address),
                address=address.split("%", 1)[0],
                mac=mac,
                interface=str(entry.get("dev") or ""),
                state=str(state or "").lower(),
            )
        )
    return tuple(found)


def read_proc_arp(proc_net: Path) -> tuple[Neighbour, ...]:
    """IPv4 entries of /proc/net/arp: IP, HW type, Flags, HW address, Mask, Device."""
    try:
        lines = (proc_net / "arp").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise CollectorError(f"cannot read {proc_net / 'arp'}: {exc.strerror or exc}") from exc
    found = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < 6:
            continue
        address, _hw_type, flags_text, lladdr, _mask, device = fields[:6]
        try:
            flags = int(flags_text, 16)
        except ValueError:
            continue
        mac = normalise_link_address(lladdr)
        if not flags & _ATF_COM or mac is None:
            continue
        state = "permanent" if flags & _ATF_PERM else ""  # the file keeps no NUD state
        found.append(Neighbour("ipv4", address, mac, device, state))
    return tuple(found)

"""The neighbour cache of Windows (IPv4 ARP and IPv6 neighbour discovery), from
`Get-NetNeighbor`, which reads the same table as `GetIpNetTable2`.

What the JSON looks like (Windows PowerShell 5.1): `LinkLayerAddress` as "00-1B-21-3A-4F-5C"
(empty for an Incomplete entry, all zeros for an Unreachable one), `State` and
`AddressFamily` as the numbers of their enums, since `ConvertTo-Json` of 5.1 writes enums as
numbers (`-EnumsAsStrings` only exists in PowerShell 7): State is NL_NEIGHBOR_STATE
(0 Unreachable, 1 Incomplete, 2 Probe, 3 Delay, 4 Stale, 5 Reachable, 6 Permanent),
AddressFamily 2 IPv4 and 23 IPv6. The names are read too, in case a later PowerShell writes
them. Permanent entries include the broadcast and multicast addresses Windows adds to every
interface (FF-FF-FF-FF-FF-FF, 01-00-5E-…, 33-33-…); the collector drops group addresses.
"""

from __future__ import annotations

from agent.facts import Neighbour
from agent.platforms.base import CommandRunner
from agent.platforms.link_address import normalise_link_address
from agent.platforms.windows.powershell import run_json

NET_NEIGHBORS = (
    "Get-NetNeighbor | Select-Object IPAddress,LinkLayerAddress,InterfaceAlias,State,"
    "AddressFamily | ConvertTo-Json"
)
STATES = ("unreachable", "incomplete", "probe", "delay", "stale", "reachable", "permanent")
_AF_INET6 = 23


def _state(value: str) -> str:
    if value.isdigit():
        number = int(value)
        return STATES[number] if number < len(STATES) else "unknown"
    return value.lower()


def neighbours(run: CommandRunner) -> tuple[Neighbour, ...]:
    found = []
    for entry in run_json(run, NET_NEIGHBORS):
        mac = normalise_link_address(entry.text("LinkLayerAddress"))
        address = entry.text("IPAddress").split("%", 1)[0]
        if mac is None or not address:
            continue
        family = entry.integer("AddressFamily")
        is_v6 = family == _AF_INET6 or entry.text("AddressFamily") == "IPv6" or ":" in address
        found.append(
            Neighbour(
                family="ipv6" if is_v6 else "ipv4",
                address=address,
                mac=mac,
                interface=entry.text("InterfaceAlias"),
                state=_state(entry.text("State")),
            )
        )
    return tuple(found)

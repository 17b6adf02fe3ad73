"""The routing table of macOS, from `netstat -rn`.

netstat prints an `Internet:` and an `Internet6:` section with the columns Destination,
Gateway, Flags, Netif and Expire. Destinations are abbreviated ("127" is 127.0.0.0/8,
"192.168.1" is 192.168.1.0/24, "10.8/16" is 10.8.0.0/16) and carry a zone on link-local
IPv6 ("fe80::%en0/64"). Gateways are addresses, `link#N` (directly connected) or, for the
neighbour cache entries mixed into the table, hardware addresses.

What is reported, to match what the Linux adapter reports from its main table:
- not the neighbour cache (flag W, cloned) or entries whose gateway is a hardware address;
- not routes through the loopback interface, nor reject (R) and blackhole (B) routes;
- a gateway only when the route has the G flag, with any IPv6 zone ("%en0") removed;
- every default route the kernel could use, including interface-scoped ones (flag I) through
  a real router: with Wi-Fi and iPhone tethering both up, the second network is such a scoped
  default route. Scoped defaults without a router (gateway `link#N`, or the bare `fe80::`
  macOS installs on every system tunnel `utun0`..`utunN`) are left out: they exist on every
  Mac and are no path out by themselves.
macOS routes have no metric; `metric` is 0.
"""

from __future__ import annotations

import ipaddress
import re

from agent.facts import Route

NETSTAT_ROUTES_ARGV = ("/usr/sbin/netstat", "-rn")

_SECTIONS = {"Internet:": "ipv4", "Internet6:": "ipv6"}
_HARDWARE_ADDRESS = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$")
_SKIPPED_FLAGS = frozenset("WRB")


def _without_zone(address: str) -> str:
    return address.split("%", 1)[0]


def normalise_destination(destination: str, family: str) -> str:
    if destination == "default":
        return "0.0.0.0/0" if family == "ipv4" else "::/0"
    address, _, length = destination.partition("/")
    address = _without_zone(address)
    if family == "ipv6":
        prefix = int(length) if length else 128
        return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False))
    octets = address.split(".")
    prefix = int(length) if length else 8 * len(octets)
    padded = ".".join(octets + ["0"] * (4 - len(octets)))
    return str(ipaddress.IPv4Network(f"{padded}/{prefix}", strict=False))


def _is_placeholder_default(destination: str, gateway: str, flags: str) -> bool:
    if destination != "default" or "I" not in flags:
        return False
    return gateway.startswith("link#") or _without_zone(gateway) == "fe80::"


def _route(fields: list[str], family: str) -> Route | None:
    destination, gateway, flags, netif = fields[:4]
    if _SKIPPED_FLAGS & set(flags) or _HARDWARE_ADDRESS.match(gateway):
        return None
    if netif.startswith("lo") or _is_placeholder_default(destination, gateway, flags):
        return None
    try:
        normalised = normalise_destination(destination, family)
    except ValueError:
        return None
    return Route(
        destination=normalised,
        gateway=_without_zone(gateway) if "G" in flags else "",
        interface=netif,
        metric=0,
        family=family,
    )


def parse_netstat_routes(output: str) -> tuple[Route, ...]:
    routes: list[Route] = []
    family = ""
    for line in output.splitlines():
        stripped = line.strip()
        if stripped in _SECTIONS:
            family = _SECTIONS[stripped]
            continue
        fields = stripped.split()
        if not family or len(fields) < 4 or fields[0] == "Destination":
            continue
        route = _route(fields, family)
        if route is not None:
            routes.append(route)
    return tuple(routes)

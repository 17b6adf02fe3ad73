"""Windows network facts: what kind each adapter is, the routing table, DNS servers.

Adapters come from `Get-NetAdapter -IncludeHidden` (hidden ones include the Wi-Fi Direct
adapter that a mobile hotspot uses). Their names are the ones psutil reports ("以太网",
"WLAN"), so the collector can join them with addresses. What decides the kind:
- PhysicalMediaType / NdisPhysicalMedium (NDIS_PHYSICAL_MEDIUM: 1 wireless LAN, 8 wireless
  WAN, 9 native 802.11, 14 802.3) say what the medium is;
- but a phone tethering over USB also looks like 802.3 Ethernet, so its driver
  (rndismp6 for RNDIS, usbncm for CDC-NCM, netaapl64 for an iPhone) or its description is
  checked first;
- VPN and virtual adapters are software, whatever medium they pretend to be.
The hidden "WAN Miniport (IKEv2/L2TP/PPTP/SSTP)" adapters are RAS plumbing present on every
Windows, not VPNs in use; nothing in them matches a rule, so they end as "other". An actual
dial-up or VPN connection shows up as an interface of its own.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import PureWindowsPath

from agent.facts import InterfaceKind, Route
from agent.platforms.base import CommandRunner, InterfaceInfo
from agent.platforms.windows.powershell import JsonRecord, run_json

NET_ADAPTERS = (
    "Get-NetAdapter -IncludeHidden | Select-Object Name,InterfaceDescription,MediaType,"
    "PhysicalMediaType,NdisPhysicalMedium,Virtual,DriverName,Status,MacAddress | ConvertTo-Json"
)
NET_ROUTES = (
    "Get-NetRoute -PolicyStore ActiveStore | Select-Object DestinationPrefix,NextHop,"
    "InterfaceAlias,RouteMetric,AddressFamily | ConvertTo-Json"
)
DNS_SERVERS = (
    "Get-DnsClientServerAddress | Select-Object InterfaceAlias,AddressFamily,ServerAddresses "
    "| ConvertTo-Json"
)

AF_INET = 2
AF_INET6 = 23
_NDIS_WIRELESS_LAN, _NDIS_WIRELESS_WAN, _NDIS_NATIVE_802_11, _NDIS_802_3 = 1, 8, 9, 14
_TETHER_DRIVERS = frozenset({"rndismp6", "rndismp", "usbncm", "netaapl64", "netaapl"})
_TETHER_TEXT = re.compile(r"Remote NDIS|RNDIS|Apple Mobile Device Ethernet|UsbNcm", re.IGNORECASE)
_VPN_TEXT = re.compile(
    r"TAP-Windows|WireGuard|OpenVPN|Wintun|\bVPN\b|Fortinet|AnyConnect", re.IGNORECASE
)
_VIRTUAL_TEXT = re.compile(r"Hyper-V|VMware|VirtualBox|Virtual Ethernet|vEthernet", re.IGNORECASE)
# Windows fills the DNS list of an IPv6 interface with no configured server with these
# deprecated site-local placeholders (fec0:0:0:ffff::1..3); nobody answers there.
_DNS_PLACEHOLDER = "fec0:0:0:ffff::"


def interface_info(run: CommandRunner) -> dict[str, InterfaceInfo]:
    found = {}
    for adapter in run_json(run, NET_ADAPTERS):
        driver = PureWindowsPath(adapter.text("DriverName")).stem.lower()
        found[adapter.text("Name")] = InterfaceInfo(
            kind=classify_adapter(adapter, driver),
            driver=driver,
            description=adapter.text("InterfaceDescription"),
        )
    return found


def classify_adapter(adapter: JsonRecord, driver: str) -> InterfaceKind:
    """First matching rule wins; see the module docstring for why in this order."""
    text = f"{adapter.text('Name')} {adapter.text('InterfaceDescription')}"
    media = f"{adapter.text('MediaType')} {adapter.text('PhysicalMediaType')}"
    medium = adapter.integer("NdisPhysicalMedium", -1)
    if "loopback" in text.lower():
        return InterfaceKind.LOOPBACK
    if driver in _TETHER_DRIVERS or _TETHER_TEXT.search(text):
        return InterfaceKind.USB_TETHER
    if "Wireless WAN" in media or medium == _NDIS_WIRELESS_WAN or "Mobile Broadband" in text:
        return InterfaceKind.WWAN
    if "802.11" in media or medium in (_NDIS_WIRELESS_LAN, _NDIS_NATIVE_802_11):
        return InterfaceKind.WIRELESS
    if _VPN_TEXT.search(text):
        return InterfaceKind.VPN
    if adapter.flag("Virtual") or _VIRTUAL_TEXT.search(text):
        return InterfaceKind.VIRTUAL
    if "802.3" in adapter.text("PhysicalMediaType") or medium == _NDIS_802_3:
        return InterfaceKind.WIRED
    return InterfaceKind.OTHER


def routes(run: CommandRunner) -> tuple[Route, ...]:
    found = []
    for route in run_json(run, NET_ROUTES):
        destination = route.text("DestinationPrefix")
        family = route.integer("AddressFamily")
        is_v6 = family == AF_INET6 or (family != AF_INET and ":" in destination)
        next_hop = route.text("NextHop")
        found.append(
            Route(
                destination=destination,
                gateway="" if _is_on_link(next_hop) else next_hop,
                interface=route.text("InterfaceAlias"),
                metric=route.integer("RouteMetric"),
                family="ipv6" if is_v6 else "ipv4",
            )
        )
    return tuple(found)


def _is_on_link(next_hop: str) -> bool:
    """Windows writes 0.0.0.0 or :: as the next hop of a route without a gateway."""
    try:
        return ipaddress.ip_address(next_hop).is_unspecified
    except ValueError:
        return False


def dns_servers(run: CommandRunner) -> tuple[str, ...]:
    found: list[str] = []
    for entry in run_json(run, DNS_SERVERS):
        for server in entry.texts("ServerAddresses"):
            address = server.strip()
            if address and not address.startswith(_DNS_PLACEHOLDER) and address not in found:
                found.append(address)
    return tuple(found)

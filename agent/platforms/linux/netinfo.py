"""Linux network facts from /sys and /proc: what kind each interface is, routes, DNS servers.

Read from the kernel's own files rather than `ip -j`: no process to start, and the answer is
the one of the network namespace the agent runs in (which is what tests rely on).
Routes are the ways out of the machine: IPv4 from /proc/net/route (the main table), IPv6 from
/proc/net/ipv6_route without the kernel's entries for the machine's own addresses (RTF_LOCAL,
RTF_ANYCAST). Those entries are not ways out, and they come and go on their own (a link-local
address appears once duplicate address detection ends, privacy addresses rotate), which would
turn an unchanged machine's heartbeat into a full report. Policy-routing tables are not inspected.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from agent.facts import InterfaceKind, Route
from agent.platforms.base import InterfaceInfo
from agent.platforms.usb_classes import TETHER_DRIVERS, WWAN_DRIVERS

_ARPHRD_ETHER = 1
_ARPHRD_PPP = 512
_ARPHRD_LOOPBACK = 772
_ARPHRD_NONE = 65534  # tun and WireGuard devices
_VPN_DEVTYPES = frozenset({"wireguard", "openvpn"})
_VIRTUAL_DEVTYPES = frozenset({"bridge", "bond", "vlan", "veth", "macvlan", "vxlan", "team"})
_RTF_GATEWAY = 0x2
_RTF_REJECT = 0x200
_RTF_ANYCAST = 0x00100000  # include/uapi/linux/ipv6_route.h
_RTF_LOCAL = 0x80000000


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _uevent(iface_dir: Path) -> dict[str, str]:
    fields = {}
    for line in _read(iface_dir / "uevent").splitlines():
        key, _, value = line.partition("=")
        fields[key] = value
    return fields


def _driver(iface_dir: Path) -> str:
    try:
        return (iface_dir / "device" / "driver").resolve(strict=True).name
    except OSError:
        return ""


def classify_interface(iface_dir: Path) -> InterfaceInfo:
    """Decide the kind from the kernel's own description of the device.

    Order matters: a USB tethering phone is also type 1 (Ethernet) with a device link, so the
    driver is looked at before falling back to "wired".
    """
    kind_number = int(_read(iface_dir / "type") or 0)
    devtype = _uevent(iface_dir).get("DEVTYPE", "")
    driver = _driver(iface_dir)
    has_device = (iface_dir / "device").exists()
    if kind_number == _ARPHRD_LOOPBACK:
        kind = InterfaceKind.LOOPBACK
    elif (
        (iface_dir / "wireless").exists() or (iface_dir / "phy80211").exists() or devtype == "wlan"
    ):
        kind = InterfaceKind.WIRELESS
    elif devtype == "wwan" or driver in WWAN_DRIVERS or kind_number == _ARPHRD_PPP:
        kind = InterfaceKind.WWAN
    elif driver in TETHER_DRIVERS:
        kind = InterfaceKind.USB_TETHER
    elif (
        devtype in _VPN_DEVTYPES
        or (iface_dir / "tun_flags").exists()
        or (kind_number == _ARPHRD_NONE)
    ):
        kind = InterfaceKind.VPN
    elif not has_device or devtype in _VIRTUAL_DEVTYPES:
        kind = InterfaceKind.VIRTUAL
    elif kind_number == _ARPHRD_ETHER:
        kind = InterfaceKind.WIRED
    else:
        kind = InterfaceKind.OTHER
    return InterfaceInfo(kind=kind, driver=driver, description=devtype)


def read_interface_info(sys_root: Path) -> dict[str, InterfaceInfo]:
    net_dir = sys_root / "class" / "net"
    try:
        names = sorted(entry.name for entry in net_dir.iterdir())
    except OSError:
        return {}
    return {name: classify_interface(net_dir / name) for name in names}


def _hex_ipv4(value: str) -> str:
    return str(ipaddress.IPv4Address(bytes.fromhex(value)[::-1]))


def _hex_ipv6(value: str) -> str:
    return str(ipaddress.IPv6Address(bytes.fromhex(value)))


def read_routes(proc_net: Path) -> tuple[Route, ...]:
    routes: list[Route] = []
    for line in _read(proc_net / "route").splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, dest, gateway, flags, _refcnt, _use, metric, mask = fields[:8]
        if int(flags, 16) & _RTF_REJECT:
            continue
        prefix = bin(int.from_bytes(bytes.fromhex(mask)[::-1], "big")).count("1")
        routes.append(
            Route(
                destination=f"{_hex_ipv4(dest)}/{prefix}",
                gateway=_hex_ipv4(gateway) if int(flags, 16) & _RTF_GATEWAY else "",
                interface=iface,
                metric=int(metric),
                family="ipv4",
            )
        )
    for line in _read(proc_net / "ipv6_route").splitlines():
        fields = line.split()
        if len(fields) < 10:
            continue
        dest, dest_len, _src, _src_len, next_hop, metric, _ref, _use, flags, iface = fields[:10]
        if int(flags, 16) & (_RTF_REJECT | _RTF_LOCAL | _RTF_ANYCAST) or iface == "lo":
            continue
        routes.append(
            Route(
                destination=f"{_hex_ipv6(dest)}/{int(dest_len, 16)}",
                gateway=_hex_ipv6(next_hop) if int(flags, 16) & _RTF_GATEWAY else "",
                interface=iface,
                metric=int(metric, 16),
                family="ipv6",
            )
        )
    return tuple(routes)


def read_dns_servers(etc: Path, run_dir: Path) -> tuple[str, ...]:
    """Name servers from resolv.conf; behind systemd-resolved's stub, the real upstreams."""
    servers: list[str] = []
    for path in (etc / "resolv.conf", run_dir / "systemd" / "resolve" / "resolv.conf"):
        for line in _read(path).splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and parts[1] not in servers:
                servers.append(parts[1])
    return tuple(servers)


def _proc_net_address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp* addresses are 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def any_external_socket(proc_net: Path) -> bool:
    """Whether any connected socket has a global far end, read from /proc/net in one pass.

    Mapping sockets to processes means reading every process's file descriptors, the slow
    part of a connection listing; on an intranet PC there is usually nothing to map.
    """
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in _read(proc_net / table).splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4 or fields[3] != "01":  # 01: established (connected for UDP)
                continue
            try:
                remote = _proc_net_address(fields[2].split(":")[0])
            except ValueError:
                return True  # unreadable: let the full listing decide
            if remote.is_global:
                return True
    return False

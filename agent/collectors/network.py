"""Network paths out of the machine: interfaces by kind, routes, DNS, external connections."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import psutil

from agent.collectors.base import CollectContext
from agent.facts import Address, Connection, Interface, InterfaceKind, NetworkFacts
from agent.platforms.base import InterfaceInfo

NAME = "network"


def netmask_prefix(netmask: str) -> int:
    """'255.255.255.0' -> 24, 'ffff:ffff:ffff:ffff::' -> 64 (ipaddress takes no v6 masks)."""
    try:
        return bin(int(ipaddress.ip_address(netmask))).count("1")
    except ValueError:
        return 0


def _addresses(snics: list[Any]) -> tuple[tuple[Address, ...], str]:
    addresses: list[Address] = []
    mac = ""
    for snic in snics:
        if snic.family == psutil.AF_LINK:
            mac = snic.address.lower().replace("-", ":")
        elif snic.family in (socket.AF_INET, socket.AF_INET6):
            family = "ipv4" if snic.family == socket.AF_INET else "ipv6"
            address = snic.address.split("%", 1)[0]  # drop the zone of link-local addresses
            prefix_length = netmask_prefix(snic.netmask) if snic.netmask else 0
            addresses.append(Address(family=family, address=address, prefix_length=prefix_length))
    return tuple(addresses), mac


def interfaces(info: dict[str, InterfaceInfo]) -> tuple[Interface, ...]:
    """Every interface the OS knows, with or without addresses (a Wi-Fi card that is down
    is still a second way out waiting to be used)."""
    stats = psutil.net_if_stats()
    all_addresses = psutil.net_if_addrs()
    result = []
    for name in sorted(set(all_addresses) | set(info) | set(stats)):
        addresses, mac = _addresses(all_addresses.get(name, []))
        details = info.get(name, InterfaceInfo(kind=InterfaceKind.OTHER))
        stat = stats.get(name)
        result.append(
            Interface(
                name=name,
                kind=details.kind,
                is_up=bool(stat and stat.isup),
                mac=mac,
                addresses=addresses,
                driver=details.driver,
                description=details.description,
                mtu=stat.mtu if stat else 0,
            )
        )
    return tuple(result)


def external_connections() -> tuple[Connection, ...]:
    """Established connections whose far end is a global (internet-routable) address."""
    names: dict[int, str] = {}
    connections = []
    for conn in psutil.net_connections(kind="inet"):
        if not conn.raddr or (conn.type == socket.SOCK_STREAM and conn.status != "ESTABLISHED"):
            continue
        try:
            remote = ipaddress.ip_address(conn.raddr.ip)
        except ValueError:
            continue
        if isinstance(remote, ipaddress.IPv6Address) and remote.ipv4_mapped:
            remote = remote.ipv4_mapped
        if not remote.is_global:
            continue
        pid = conn.pid
        if pid is not None and pid not in names:
            try:
                names[pid] = psutil.Process(pid).name()
            except psutil.Error:
                names[pid] = ""
        connections.append(
            Connection(
                local_address=conn.laddr.ip if conn.laddr else "",
                local_port=conn.laddr.port if conn.laddr else 0,
                remote_address=str(remote),
                remote_port=conn.raddr.port,
                pid=pid,
                process_name=names.get(pid, "") if pid is not None else "",
                protocol="tcp" if conn.type == socket.SOCK_STREAM else "udp",
            )
        )
    return tuple(connections)


def collect(ctx: CollectContext) -> NetworkFacts:
    platform = ctx.platform
    return NetworkFacts(
        interfaces=interfaces(dict(platform.interface_info())),
        routes=platform.routes(),
        dns_servers=platform.dns_servers(),
        connections=external_connections() if platform.may_have_external_connections() else (),
    )

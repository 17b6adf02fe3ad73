"""Host identity: who this machine is, for the check sheet and for the server's records."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket

import psutil

from agent import __version__
from agent.collectors.base import CollectContext
from agent.facts import HostFacts

NAME = "host"

_NULL_MACS = frozenset({"", "00:00:00:00:00:00"})


def mac_addresses() -> tuple[str, ...]:
    """Hardware addresses of every interface but loopback, lower-case, without duplicates."""
    macs: list[str] = []
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        for address in addresses:
            if address.family != psutil.AF_LINK or name == "lo":
                continue
            mac = address.address.lower().replace("-", ":")
            if mac not in _NULL_MACS and mac not in macs:
                macs.append(mac)
    return tuple(macs)


def ip_addresses() -> tuple[str, ...]:
    found: list[str] = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                ip = ipaddress.ip_address(address.address.split("%", 1)[0])
            except ValueError:
                continue
            if not (ip.is_loopback or ip.is_link_local) and str(ip) not in found:
                found.append(str(ip))
    return tuple(sorted(found, key=lambda text: (":" in text, text)))


def collect(ctx: CollectContext) -> HostFacts:
    platform = ctx.platform
    release = platform.os_release()
    hostname = socket.gethostname()
    try:
        boot_time: dt.datetime | None = dt.datetime.fromtimestamp(
            psutil.boot_time(), tz=dt.timezone.utc
        )
    except (OSError, RuntimeError):
        boot_time = None
    users = tuple(sorted({user.name for user in psutil.users()}))
    return HostFacts(
        hostname=hostname,
        fqdn=platform.fqdn(hostname),
        os_name=release.name,
        os_version=release.version,
        kernel=release.kernel,
        platform=platform.name,
        machine_id=platform.machine_id(),
        mac_addresses=mac_addresses(),
        ip_addresses=ip_addresses(),
        disk_serials=platform.disk_serials(),
        users=users,
        boot_time=boot_time,
        agent_version=__version__,
        asset=ctx.asset,
    )

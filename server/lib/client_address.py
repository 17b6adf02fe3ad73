"""The address a dashboard request came from, behind trusted reverse proxies too.

The sign-in throttle and the audit log key on it. Behind a reverse proxy every connection
comes from the proxy, which names the client in `X-Forwarded-For`; but anyone can send that
header, so it is believed only when the connection itself comes from a proxy named in
`CUSTOS_TRUSTED_PROXIES`. The header is then read from the right, the proxies' own end:
each trusted proxy appends the address it was connected from, so the right-most address
that is not a trusted proxy is the client, and whatever is left of it was written by the
client and is ignored. An entry that is not an address stops the walk there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest

from server.lib.env import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it: "10.1.2.3", "10.1.2.3:5123", "2001:db8::1" or
    "[2001:db8::1]:443"; an IPv4 address mapped into IPv6 as the IPv4 address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(request: HttpRequest) -> str:
    peer_text = str(request.META.get("REMOTE_ADDR", ""))
    peer = parse_address(peer_text)
    proxies: Sequence[IPNetwork] = settings.CUSTOS_TRUSTED_PROXIES
    if peer is None or not _trusted(peer, proxies):
        return str(peer) if peer is not None else peer_text
    client = peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    for hop in reversed([item for item in forwarded.split(",") if item.strip()]):
        address = parse_address(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)

"""DNS servers on macOS, from `scutil --dns`.

/etc/resolv.conf on a Mac is a compatibility copy of one resolver; the real configuration is
the list `scutil --dns` prints: the default resolvers, supplemental ones for VPN or corporate
domains, and the per-interface ("scoped") ones. Every `nameserver[N] : address` line of all of
them counts, since any of them may be asked; each address is reported once, in first-seen
order.
"""

from __future__ import annotations

import re

SCUTIL_DNS_ARGV = ("/usr/sbin/scutil", "--dns")

_NAMESERVER = re.compile(r"^\s*nameserver\[\d+\]\s*:\s*(?P<address>\S+)\s*$")


def parse_scutil_dns(output: str) -> tuple[str, ...]:
    servers: list[str] = []
    for line in output.splitlines():
        match = _NAMESERVER.match(line)
        if match and match["address"] not in servers:
            servers.append(match["address"])
    return tuple(servers)

"""dnsmasq's lease file (`dnsmasq.leases`, `--dhcp-leasefile`).

One line per IPv4 lease: `EXPIRY MAC IP HOSTNAME CLIENT-ID`, EXPIRY in seconds since the epoch
(0 for an infinite lease), HOSTNAME `*` when the client sent none. DHCPv6 leases follow a
`duid SERVER-DUID` line as `EXPIRY IAID IP HOSTNAME CLIENT-DUID`: they name no MAC and are
skipped. dnsmasq keeps only live leases in the file, so a lease that has not expired says the
device is there at the time of the import; an expired one says it was there before its expiry.
"""

from __future__ import annotations

import datetime as dt

from server.sightings.imports.common import (
    Parsed,
    UnusableFileError,
    ViewBuilder,
    at_most,
    ip_or_empty,
)
from server.sightings.recording import Seen


def parse(text: str, now: dt.datetime) -> Parsed:
    builder = ViewBuilder()
    lines = text.splitlines()
    recognised = 0
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "duid":
            break  # DHCPv6 leases from here on: no MAC
        if len(fields) < 4 or not fields[0].isdigit():
            builder.parsed.problem(
                number, "not a lease line (expiry, MAC, IP, hostname, client id)"
            )
            continue
        recognised += 1
        expiry = int(fields[0])
        ends = dt.datetime.fromtimestamp(min(expiry, 2**33), dt.timezone.utc)
        seen_at = None if expiry == 0 or ends >= now else ends
        builder.add(
            number,
            fields[1],
            Seen(
                mac="",
                ip=ip_or_empty(fields[2]),
                name="" if fields[3] == "*" else fields[3],
                at=at_most(seen_at, now),
            ),
        )
    if not recognised and builder.parsed.problem_count:
        raise UnusableFileError(
            "no line reads as a dnsmasq lease: this is not a dnsmasq.leases file"
        )
    return builder.result()

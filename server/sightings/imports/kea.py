"""Kea's memfile lease database: `kea-leases4.csv` (and `kea-leases6.csv`).

A CSV with a header; the columns have grown over releases (`address,hwaddr,client_id,
valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id` for
DHCPv4 in Kea 2.4), so they are read by name. Kea appends a row on every lease change and
compacts the file now and then (LFC): the latest row per address is current. `expire` is the
lease's end in seconds since the epoch, `valid_lifetime` its length, so the client's last
transaction is `expire - valid_lifetime`. `state` is 0 default, 1 declined, 2
expired-reclaimed; a declined lease names the device that refused the address and is
skipped. Kea escapes commas in hostnames as `&#x2c`. A DHCPv6 lease names a MAC only when Kea
learned one (`hwaddr`); rows without are skipped.
"""

from __future__ import annotations

import datetime as dt

from server.sightings.imports.common import (
    Parsed,
    UnusableFileError,
    ViewBuilder,
    at_most,
    csv_rows,
    ip_or_empty,
)
from server.sightings.recording import Seen

_STATES = {"0": "default", "1": "declined", "2": "expired-reclaimed"}


def _cltt(row: dict[str, str]) -> dt.datetime | None:
    try:
        expire, lifetime = int(row.get("expire", "")), int(row.get("valid_lifetime") or 0)
        return dt.datetime.fromtimestamp(expire - lifetime, dt.timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def parse(text: str, now: dt.datetime) -> Parsed:
    rows = csv_rows(text)
    if not rows:
        raise UnusableFileError("the file is empty")
    header = [name.strip().lower() for name in rows[0]]
    if "address" not in header or "hwaddr" not in header or "expire" not in header:
        raise UnusableFileError(
            "no Kea header (address, hwaddr, expire, …) on the first line: not a Kea lease file"
        )
    builder = ViewBuilder()
    for number, values in enumerate(rows[1:], 2):
        if not any(value.strip() for value in values):
            continue
        row = dict(zip(header, values, strict=False))
        if row.get("state") == "1" or not row.get("hwaddr", "").strip():
            continue
        builder.add(
            number,
            row["hwaddr"],
            Seen(
                mac="",
                ip=ip_or_empty(row.get("address", "")),
                name=row.get("hostname", "").replace("&#x2c", ","),
                state=_STATES.get(row.get("state", ""), row.get("state", "")),
                at=at_most(_cltt(row), now),
            ),
        )
    return builder.result()

"""The leases of a Windows DHCP server, exported as CSV.

Two exports are read, told apart by their header:

- PowerShell: `Get-DhcpServerv4Scope | Get-DhcpServerv4Lease | Export-Csv leases.csv
  -NoTypeInformation -Encoding UTF8` (columns IPAddress, ScopeId, ClientId, HostName,
  AddressState, LeaseExpiryTime, …; without -NoTypeInformation Windows PowerShell 5.1 writes a
  `#TYPE …` line first). ClientId of an Ethernet client is its MAC, `00-1b-21-3a-4f-5c`.
- The DHCP console's "Export List…" of Address Leases (tab-separated): Client IP Address,
  Name, Lease Expiration, Type, Unique ID (the MAC without separators), Description — or, on a
  Chinese Windows, 客户端 IP 地址, 名称, 租用截止日期, 类型, 唯一 ID, 描述.

Lease times are written in the server's locale and time zone, which the file does not name,
so they are not read: a listed lease is taken as seen at the time of the import. Inactive
reservations (a reserved MAC that holds no lease now) and declined addresses name no device
that is on the network, and are skipped.
"""

from __future__ import annotations

import datetime as dt

from server.sightings.imports.common import (
    Parsed,
    UnusableFileError,
    ViewBuilder,
    csv_rows,
    header_key,
    ip_or_empty,
)
from server.sightings.recording import Seen

_COLUMNS = {
    "ip": ("ipaddress", "clientipaddress", "客户端ip地址"),
    "mac": ("clientid", "uniqueid", "唯一id"),
    "name": ("hostname", "name", "名称"),
    "state": ("addressstate", "type", "类型"),
}
_SKIPPED_STATES = ("inactivereservation", "declined")


def parse(text: str, now: dt.datetime) -> Parsed:
    rows = [row for row in csv_rows(text) if row and not row[0].startswith("#TYPE")]
    if not rows:
        raise UnusableFileError("the file is empty")
    header = [header_key(name) for name in rows[0]]
    where = {
        field: next((header.index(name) for name in names if name in header), None)
        for field, names in _COLUMNS.items()
    }
    if where["mac"] is None or where["ip"] is None:
        raise UnusableFileError(
            "no IPAddress and ClientId columns (nor Client IP Address and Unique ID): "
            "not an export of a Windows DHCP server's leases"
        )
    builder = ViewBuilder()

    def value(row: list[str], field: str) -> str:
        index = where[field]
        return row[index].strip() if index is not None and index < len(row) else ""

    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        state = value(row, "state")
        if header_key(state) in _SKIPPED_STATES:
            continue
        builder.add(
            number,
            value(row, "mac"),
            Seen(mac="", ip=ip_or_empty(value(row, "ip")), name=value(row, "name"), state=state),
        )
    return builder.result()

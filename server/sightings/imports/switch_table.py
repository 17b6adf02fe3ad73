"""A switch's MAC address table, as CSV: MAC, port, VLAN.

Switches print their tables in their own layouts (Cisco `show mac address-table`, Huawei and
H3C `display mac-address`); an admin saves the three columns that matter as CSV, in any MAC
notation (`0011.2233.4455`, `0011-2233-4455`, `00:11:22:33:44:55`). A header row is optional
and read by name (MAC / MAC Address / MAC地址, Port / Interface / 端口 / 接口, VLAN / VLAN ID);
without one the columns are MAC, port, VLAN in that order. The table says the device is on
the network at the time of the import.
"""

from __future__ import annotations

import datetime as dt

from server.sightings.imports.common import (
    Parsed,
    UnusableFileError,
    ViewBuilder,
    csv_rows,
    header_key,
)
from server.sightings.recording import Seen, device_mac

_COLUMNS = {
    "mac": ("mac", "macaddress", "mac地址"),
    "port": ("port", "interface", "端口", "接口", "ports"),
    "vlan": ("vlan", "vlanid", "vlan号"),
}


def parse(text: str, now: dt.datetime) -> Parsed:
    rows = [row for row in csv_rows(text) if any(cell.strip() for cell in row)]
    if not rows:
        raise UnusableFileError("the file is empty")
    header = [header_key(name) for name in rows[0]]
    where = {
        field: next((header.index(name) for name in names if name in header), None)
        for field, names in _COLUMNS.items()
    }
    first = 2
    if where["mac"] is None:
        if device_mac(rows[0][0] if rows[0] else "") is None:
            raise UnusableFileError(
                "no MAC column: the first row is no header naming MAC, port and VLAN, "
                "and the first column holds no MAC addresses"
            )
        where, first = {"mac": 0, "port": 1, "vlan": 2}, 1
        rows = [[], *rows]  # keep line numbers: no header line
    builder = ViewBuilder()
    for number, row in enumerate(rows[1:], first):

        def cell(field: str, row: list[str] = row) -> str:
            index = where[field]
            return row[index].strip() if index is not None and index < len(row) else ""

        builder.add(number, cell("mac"), Seen(mac="", where=cell("port"), vlan=cell("vlan")))
    return builder.result()

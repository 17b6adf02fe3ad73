"""Reading the files an admin imports: DHCP leases and switch MAC address tables.

    parse(format, data, now) -> Parsed    the devices the file names, and each line that
                                           could not be read (line: reason)
    UnusableFileError                      not a file of that format at all (or not text)

Each format is a module with `parse(text, now)`; the text is decoded here (UTF-8 with or
without BOM, else GB18030, which is what a Chinese Windows writes). Rows whose MAC is not a
device address are problems, not devices; a file with no device row and no recognisable
structure is unusable. Where a file records when a device last talked to the DHCP server,
that time is used (never later than the import); otherwise the import's time.
"""

from __future__ import annotations

import datetime as dt

from server.sightings.imports import dhcpd, dnsmasq, kea, switch_table, windows_dhcp
from server.sightings.imports.common import Parsed, Problem, UnusableFileError
from server.sightings.models import ImportFormat

__all__ = ["Parsed", "Problem", "UnusableFileError", "decode", "parse"]

MAX_FILE_BYTES = 64 * 2**20

_PARSERS = {
    ImportFormat.DHCPD: dhcpd.parse,
    ImportFormat.DNSMASQ: dnsmasq.parse,
    ImportFormat.KEA: kea.parse,
    ImportFormat.WINDOWS_DHCP: windows_dhcp.parse,
    ImportFormat.SWITCH: switch_table.parse,
}


def decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise UnusableFileError(f"the file is over {MAX_FILE_BYTES // 2**20} MiB")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # Export-Csv -Encoding Unicode
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UnusableFileError("the file is not text (neither UTF-8 nor GB18030)") from None


def parse(import_format: ImportFormat, data: bytes, now: dt.datetime) -> Parsed:
    text = decode(data)
    if "\x00" in text:
        raise UnusableFileError("the file is not text (it holds NUL bytes)")
    return _PARSERS[ImportFormat(import_format)](text, now)

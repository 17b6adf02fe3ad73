"""USB storage history on macOS, from the kernel's lines in the unified log.

macOS keeps no USB history file. What it does keep: when a USB mass-storage device attaches,
the kernel logs `USBMSC Identifier (non-unique): <serial> 0x<vendor> 0x<product>
0x<release>, <n>` (the serial is missing for devices without one). Apple's IOUSBFamily source
prints that line since Mac OS X 10.6, forensic write-ups use it up to current releases, and
public unified-log analyses found it on macOS 14; whether every later release still logs it
is not established, which is why an empty answer is reported as "nothing found", not as proof
that nothing was attached.

Limits worth knowing: the unified log keeps days to weeks, not months; phones (MTP/PTP) are
not mass storage and never appear here; and the line names no product or vendor string.

`log show --style ndjson` prints one JSON object per line (keys `timestamp` like
"2024-03-11 09:14:03.412345+0800", `eventMessage`, `processImagePath` "/kernel", ...) and
closes with a `{"count":N,"finished":1}` object.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

from agent.facts import MediaEvent, UsbClass
from agent.platforms.usb_classes import normalise_hex_id

SOURCE = "unified-log"
LOG_PREDICATE = 'process == "kernel" AND eventMessage CONTAINS "USBMSC Identifier"'
# Reading weeks of log takes a while, even with a predicate narrowing it to the kernel.
LOG_SHOW_TIMEOUT = 180.0

_USBMSC = re.compile(
    r"USBMSC Identifier \(non-unique\):\s*"
    r"(?:(?P<serial>\S+)\s+)?"
    r"(?P<vendor>0x[0-9a-fA-F]+)\s+(?P<product>0x[0-9a-fA-F]+)\s+0x[0-9a-fA-F]+"
)
_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z")


def _aware(moment: dt.datetime) -> dt.datetime:
    """A naive moment is taken as this machine's local time, as `log` itself does."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def log_show_argv(since: dt.datetime | None) -> tuple[str, ...]:
    argv = ("/usr/bin/log", "show", "--style", "ndjson", "--predicate", LOG_PREDICATE)
    if since is None:
        return argv
    # `log show --start` takes "YYYY-MM-DD HH:MM:SSZZZZZ" (an offset such as +00:00).
    start = _aware(since).astimezone(dt.timezone.utc).isoformat(sep=" ", timespec="seconds")
    return (*argv, "--start", start)


def _parse_time(text: str) -> dt.datetime | None:
    for pattern in _TIMESTAMP_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _records(output: str) -> Iterator[dict[str, Any]]:
    """The log entries; banner lines, the closing count object and damaged lines are skipped."""
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("eventMessage"), str):
            yield record


def parse_usbmsc_events(output: str, since: dt.datetime | None) -> tuple[MediaEvent, ...]:
    events: list[MediaEvent] = []
    floor = _aware(since) if since is not None else None
    for record in _records(output):
        match = _USBMSC.search(record["eventMessage"])
        if not match:
            continue
        timestamp = record.get("timestamp")
        time = _parse_time(timestamp) if isinstance(timestamp, str) else None
        if floor is not None and time is not None and time < floor:
            continue
        events.append(
            MediaEvent(
                time=time,
                vendor_id=normalise_hex_id(match["vendor"]),
                product_id=normalise_hex_id(match["product"]),
                serial=match["serial"] or "",
                product="",
                manufacturer="",
                usb_class=UsbClass.MASS_STORAGE,
                source=SOURCE,
            )
        )
    return tuple(sorted(events, key=_order))


def _order(event: MediaEvent) -> dt.datetime:
    return event.time or dt.datetime.min.replace(tzinfo=dt.timezone.utc)

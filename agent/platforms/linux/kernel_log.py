"""Which USB devices were connected, and when, from the kernel's own log lines.

Linux keeps no registry of past devices; the only record is what the kernel logged while
enumerating them ("new high-speed USB device number 5", "New USB device found, idVendor=...",
"SerialNumber: ...", "USB disconnect"). Those lines reach the systemd journal and, where
rsyslog runs (UOS and Kylin ship it), /var/log/kern.log, syslog or messages.

Sources, in order:
1. `journalctl _TRANSPORT=kernel -o json`. This is `journalctl -k` without the `-b` that `-k`
   implies: `-k` shows only the current boot, and history has to reach back across reboots.
   An empty answer is not trusted as "nothing happened": without journal files journalctl
   exits 0 and prints nothing at all in JSON mode (seen with systemd 252 on a machine whose
   PID 1 is not systemd), so an empty answer falls through to the log files, unless `since`
   explains it and a second query (`-n 1`, the newest kernel line) shows the journal is there.
2. The rotated text logs, oldest first, from the first family that exists: kern.log*, then
   syslog*, then messages*. Reading one family only avoids counting each line twice (syslog
   repeats kern.log).

One MediaEvent per connection: a "new ... USB device number N" line opens one for its bus
path, the descriptor lines fill it in, "USB disconnect" closes it. Lines of several devices
interleave freely; a bus path is reused after a disconnect; a reboot closes everything that
was open. Enumerations that failed before the device sent its ids are dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import Cause, CommandError, cause_of, strongest
from agent.facts import MediaEvent, UsbClass
from agent.platforms.base import CommandRunner, MediaHistory, run_command
from agent.platforms.usb_classes import NETWORK_DRIVERS, normalise_hex_id

JOURNAL_TIMEOUT = 120.0  # seconds; a years-old persistent journal takes a while to read
LOG_FAMILIES = ("kern.log", "syslog", "messages")
JOURNAL_DIRS = (Path("/var/log/journal"), Path("/run/log/journal"))  # persistent, volatile
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

_PATH = r"(?P<path>\d+-\d+(?:\.\d+)*)"
_NEW_DEVICE = re.compile(rf"^usb {_PATH}: new .*USB device number (?P<number>\d+) using ")
_FOUND = re.compile(
    rf"^usb {_PATH}: New USB device found, "
    r"idVendor=(?P<vendor>[0-9a-fA-F]{4}), idProduct=(?P<product>[0-9a-fA-F]{4})"
)
_STRING = re.compile(rf"^usb {_PATH}: (?P<key>Product|Manufacturer|SerialNumber): (?P<value>.*)$")
_DISCONNECT = re.compile(rf"^usb {_PATH}: USB disconnect, device number (?P<number>\d+)")
# "<driver> <bus path>:<config>.<interface>: ..." or "<driver> <interface> <netdev>: ..."
_INTERFACE_DRIVER = re.compile(rf"^(?P<driver>[\w-]+) {_PATH}:\d+\.\d+[: ]")
_SCSI_USB_STORAGE = re.compile(rf"^scsi host\d+: usb-storage {_PATH}:\d+\.\d+")
_SCSI_UAS = re.compile(r"^scsi host\d+: uas\s*$")
_INPUT = re.compile(rf"^input: .* as /devices/\S*/{_PATH}:\d+\.\d+/")
_KERNEL_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")

_UAS_BIND_WINDOW = dt.timedelta(seconds=30)
_USB_PREFIXES = ("usb ", "scsi host", "input: ")
_STORAGE_DRIVERS = frozenset({"usb-storage", "uas"})
# Apple names its handhelds in the product string and nobody else uses its vendor id, so this
# is the one phone that kernel lines identify reliably. Android phones in MTP mode bind no
# kernel driver and name themselves by model ("Mi 10"), so their events stay OTHER.
_APPLE_VENDOR_ID = "05ac"
_APPLE_HANDHELDS = ("iPhone", "iPad", "iPod")

_CLASSIC_LINE = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<clock>\d\d:\d\d:\d\d) "
    r"\S+ kernel: (?P<msg>.*)$"
)
_RFC3339_LINE = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\dT\S+) \S+ kernel: (?P<msg>.*)$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_ROTATED = re.compile(r"^\.(?P<number>\d+)(?:\.gz)?$")
_DATED = re.compile(r"^-(?P<date>\d{8})(?:\.gz)?$")


def read_media_history(
    since: dt.datetime | None,
    run: CommandRunner = run_command,
    log_dir: Path = Path("/var/log"),
    journal_dirs: Sequence[Path] = JOURNAL_DIRS,
) -> MediaHistory:
    """USB connections since `since` (None: all the logs kept), from the journal or files.

    When neither can be read, the error names both problems and the cause is the one the
    user can act on: permission when either source refused this user (an administrator
    could read it), "no source" when the PC keeps neither (no journalctl or no journal
    files, and no log files), else the journal's own failure.
    """
    since = _aware(since) if since is not None else None
    lines, journal_problem, journal_cause = _read_journal(since, run, journal_dirs)
    if lines is not None:
        return MediaHistory(events=_events(lines, "journal", since), source="journal")
    family, file_lines, files_problem, files_cause = _read_log_files(log_dir)
    if family:
        return MediaHistory(events=_events(file_lines, family, since), source=family)
    absent = {Cause.NO_SOURCE, Cause.COMMAND_MISSING}
    if Cause.PERMISSION_DENIED in (journal_cause, files_cause):
        cause = Cause.PERMISSION_DENIED
    elif journal_cause in absent and files_cause in absent:
        cause = Cause.NO_SOURCE
    else:
        cause = journal_cause if journal_cause not in absent else files_cause
    return MediaHistory(
        events=(), source="", error=f"{journal_problem}; {files_problem}", cause=cause
    )


@dataclass(frozen=True)
class _KernelLine:
    """One kernel message with its time; `boot` changes when the machine restarted."""

    time: dt.datetime
    message: str
    boot: str


# --- the journal ------------------------------------------------------------------------


def _read_journal(
    since: dt.datetime | None, run: CommandRunner, journal_dirs: Sequence[Path]
) -> tuple[list[_KernelLine] | None, str, Cause]:
    """The journal's kernel lines, or None, why the journal is no use here and its cause."""
    argv = ["journalctl", "_TRANSPORT=kernel", "-o", "json", "--no-pager"]
    window = ["--since", f"@{int(since.timestamp())}"] if since is not None else []
    try:
        output = run([*argv, *window], timeout=JOURNAL_TIMEOUT)
        if _has_entries(output):
            return list(_parse_journal_json(output)), "", Cause.FAILED
        # Nothing since `since`: a quiet kernel, or no journal at all? Ask for the last line.
        if since is not None and _has_entries(run([*argv, "-n", "1"], timeout=JOURNAL_TIMEOUT)):
            return [], "", Cause.FAILED
    except CommandError as exc:
        return None, f"journal: {exc}", exc.cause or Cause.FAILED
    return (None, *_why_the_journal_is_empty(journal_dirs))


def _why_the_journal_is_empty(journal_dirs: Sequence[Path]) -> tuple[str, Cause]:
    """journalctl answers an empty list both when there are no journal files and when this
    user may not read them (it only hints at that on stderr); the files themselves tell."""
    files: list[Path] = []
    for directory in journal_dirs:
        with contextlib.suppress(OSError):
            files.extend(directory.rglob("*.journal"))
    if not files:
        return "journal: no journal files", Cause.NO_SOURCE
    if not any(os.access(path, os.R_OK) for path in files):
        return "journal: the journal files are not readable by this user", Cause.PERMISSION_DENIED
    return "journal: the journal holds no kernel messages", Cause.NO_SOURCE


def _journal_entries(output: str) -> Iterator[dict[str, Any]]:
    """`journalctl -o json` output: one object per line (other lines are not entries)."""
    for raw in output.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("_TRANSPORT", "kernel") == "kernel":
            yield entry


def _has_entries(output: str) -> bool:
    return next(_journal_entries(output), None) is not None


def _parse_journal_json(output: str) -> Iterator[_KernelLine]:
    """The USB-related kernel lines. Every value is a string, except MESSAGE as a list of
    byte values when it is not printable UTF-8, and a list of values when a field occurs
    more than once in an entry."""
    for entry in _journal_entries(output):
        time = _journal_time(entry.get("__REALTIME_TIMESTAMP"))
        if time is None:
            continue
        boot = str(entry.get("_BOOT_ID", ""))
        for message in _journal_messages(entry.get("MESSAGE")):
            if _is_usb_related(message):
                yield _KernelLine(time=time, message=message, boot=boot)


def _journal_time(value: Any) -> dt.datetime | None:
    try:
        return _EPOCH + dt.timedelta(microseconds=int(value))
    except (TypeError, ValueError, OverflowError):
        return None


def _journal_messages(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, int) for item in value):
        try:
            return [_decode_log_bytes(bytes(value))]
        except ValueError:  # not bytes: numbers outside 0..255
            return []
    if isinstance(value, list):
        return [message for item in value for message in _journal_messages(item)]
    return []  # null: longer than journalctl prints without --all


def _decode_log_bytes(raw: bytes) -> str:
    """UTF-8, with any other byte kept visible as \\xNN, the way dmesg shows it."""
    return raw.decode("utf-8", "backslashreplace")


# --- the text log files -----------------------------------------------------------------


def _read_log_files(log_dir: Path) -> tuple[str, list[_KernelLine], str, Cause]:
    """(family, kernel lines oldest first, problem, its cause): family is "" when none was
    readable."""
    problems = []
    causes = []
    for family in LOG_FAMILIES:
        files = _family_files(log_dir, family)
        reader = _TextLogReader()
        lines: list[_KernelLine] = []
        readable = False
        for path in files:
            try:
                modified = dt.datetime.fromtimestamp(path.stat().st_mtime)
                with _open_log(path) as stream:
                    lines.extend(reader.read(stream, modified))
            except (OSError, EOFError) as exc:
                problems.append(f"{path}: {exc.__class__.__name__}: {exc}")
                causes.append(cause_of(exc))
                continue
            readable = True
        if readable:
            return family, lines, "", Cause.FAILED
    if not problems:
        names = ", ".join(f"{family}*" for family in LOG_FAMILIES)
        return "", [], f"log files: none of {names} in {log_dir}", Cause.NO_SOURCE
    return "", [], "log files: " + "; ".join(problems), strongest(causes)


def _family_files(log_dir: Path, family: str) -> list[Path]:
    """kern.log.4.gz ... kern.log.1, kern.log (or kern.log-20261101.gz ..., kern.log)."""
    try:
        candidates = [path for path in log_dir.glob(f"{family}*") if path.is_file()]
    except OSError:
        return []
    keyed = []
    for path in candidates:
        suffix = path.name[len(family) :]
        if suffix == "":
            keyed.append(((2, 0), path))
        elif match := _ROTATED.match(suffix):
            keyed.append(((1, -int(match["number"])), path))
        elif match := _DATED.match(suffix):
            keyed.append(((0, int(match["date"])), path))
    return [path for _, path in sorted(keyed)]


def _open_log(path: Path) -> io.BufferedIOBase:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


_Stamp = tuple[int, int, str]  # month, day, "HH:MM:SS" of the classic format


class _TextLogReader:
    """Reads one family of text logs, oldest file first, in the classic or RFC 3339 format.

    Lines are streamed and only those the connection tracker can use are kept: syslog on a
    busy PC runs to hundreds of megabytes, and the agent has to stay small.

    Text logs carry no boot id: a boot starts with "Linux version" or where the kernel's
    uptime stamp ("[  123.456789]") goes backwards; the count runs on across files.

    The classic format ("Nov 27 10:00:01 host kernel: ...") has no year. A file's
    modification time is when its last line was written, so that line belongs to the
    mtime's year unless its date lies after the mtime; going back from there, a month that
    jumps by more than half a year marks New Year (smaller steps back are lines rsyslog
    wrote slightly out of order).
    """

    def __init__(self) -> None:
        self.boot = 0
        self.uptime = 0.0

    def read(self, stream: Iterable[bytes], modified: dt.datetime) -> list[_KernelLine]:
        kept: list[tuple[int, _Stamp | dt.datetime, str, str]] = []
        new_years = 0  # New Year wraps seen so far in this file
        last_stamp: _Stamp | None = None
        for raw in stream:
            parsed = _parse_log_line(_decode_log_bytes(raw.rstrip(b"\r\n")))
            if parsed is None:
                continue
            when, message = parsed
            if isinstance(when, tuple):
                if last_stamp is not None and last_stamp[0] - when[0] > 6:
                    new_years += 1
                elif last_stamp is not None and when[0] - last_stamp[0] > 6:
                    new_years -= 1
                last_stamp = when
            message = self._follow_boots(message)
            if _is_usb_related(message):
                kept.append((new_years, when, message, str(self.boot)))
        last_year = modified.year
        if last_stamp is not None and last_stamp[:2] > (modified.month, modified.day):
            last_year -= 1
        lines = []
        for wraps, when, message, boot in kept:
            if isinstance(when, tuple):
                time = _classic_time(when, last_year - (new_years - wraps))
            else:
                time = when
            if time is not None:
                lines.append(_KernelLine(time=time, message=message, boot=boot))
        return lines

    def _follow_boots(self, message: str) -> str:
        """The message without its uptime stamp, counting boots on the way."""
        stamp = _KERNEL_TIMESTAMP.match(message)
        uptime = float(stamp.group(0).strip(" []")) if stamp else self.uptime
        body = message[stamp.end() :] if stamp else message
        if body.startswith("Linux version ") or uptime < self.uptime:
            self.boot += 1
        self.uptime = uptime
        return body


def _parse_log_line(text: str) -> tuple[_Stamp | dt.datetime, str] | None:
    if match := _RFC3339_LINE.match(text):
        stamp = _parse_rfc3339(match["stamp"])
        return None if stamp is None else (stamp, match["msg"])
    if (match := _CLASSIC_LINE.match(text)) and match["month"] in _MONTHS:
        return (_MONTHS[match["month"]], int(match["day"]), match["clock"]), match["msg"]
    return None


def _classic_time(stamp: _Stamp, year: int) -> dt.datetime | None:
    month, day, clock = stamp
    hour, minute, second = (int(part) for part in clock.split(":"))
    try:
        return dt.datetime(year, month, day, hour, minute, second).astimezone()
    except ValueError:  # 29 February in a year the inference got wrong
        return None


def _parse_rfc3339(stamp: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def _is_usb_related(message: str) -> bool:
    """Whether the connection tracker could use the line; everything else is dropped early."""
    return message.startswith(_USB_PREFIXES) or _INTERFACE_DRIVER.match(message) is not None


# --- from lines to connections ----------------------------------------------------------


@dataclass
class _Connection:
    """A connection being assembled from its lines (mutable until it closes)."""

    bus_path: str
    time: dt.datetime
    number: str = ""
    vendor_id: str = ""
    product_id: str = ""
    serial: str = ""
    product: str = ""
    manufacturer: str = ""
    drivers: set[str] = field(default_factory=set)
    has_input: bool = False
    last_seen: dt.datetime | None = None

    def usb_class(self) -> UsbClass:
        """From what the kernel bound to the device, as far as its lines tell: storage
        (usb-storage, uas), network (rndis_host, cdc_ether, ipheth, WWAN drivers), hub,
        HID (an input device registered under it). Apple handhelds are phones first, as
        `classify_usb` ranks them for attached devices, even with ipheth bound."""
        if self.vendor_id == _APPLE_VENDOR_ID and self.product.startswith(_APPLE_HANDHELDS):
            return UsbClass.PHONE_OR_CAMERA
        if self.drivers & _STORAGE_DRIVERS:
            return UsbClass.MASS_STORAGE
        if self.drivers & NETWORK_DRIVERS:
            return UsbClass.NETWORK
        if "hub" in self.drivers:
            return UsbClass.HUB
        if self.has_input:
            return UsbClass.HID
        return UsbClass.OTHER

    def event(self, source: str) -> MediaEvent:
        return MediaEvent(
            time=self.time,
            vendor_id=self.vendor_id,
            product_id=self.product_id,
            serial=self.serial,
            product=self.product,
            manufacturer=self.manufacturer,
            usb_class=self.usb_class(),
            source=source,
            last_seen=self.last_seen,
            bus_path=self.bus_path,
        )


class _ConnectionTracker:
    """Feeds kernel lines in time order; keeps one open connection per bus path."""

    def __init__(self) -> None:
        self.open: dict[str, _Connection] = {}
        self.closed: list[_Connection] = []
        self.boot: str | None = None

    def feed(self, line: _KernelLine) -> None:
        if line.boot != self.boot:
            self._close_all()
            self.boot = line.boot
        message = _KERNEL_TIMESTAMP.sub("", line.message)
        if match := _NEW_DEVICE.match(message):
            self._close(match["path"])
            self.open[match["path"]] = _Connection(
                bus_path=match["path"], time=line.time, number=match["number"]
            )
        elif match := _FOUND.match(message):
            connection = self.open.get(match["path"])
            if connection is None:  # its "new ... device" line is older than the log
                connection = self.open[match["path"]] = _Connection(match["path"], line.time)
            connection.vendor_id = normalise_hex_id(match["vendor"])
            connection.product_id = normalise_hex_id(match["product"])
        elif match := _STRING.match(message):
            self._set_string(match["path"], match["key"], match["value"].strip())
        elif match := _DISCONNECT.match(message):
            self._disconnect(match["path"], match["number"], line.time)
        elif match := _SCSI_USB_STORAGE.match(message):
            self._bind(match["path"], "usb-storage")
        elif _SCSI_UAS.match(message):
            self._bind_uas(line.time)
        elif match := _INPUT.match(message):
            connection = self.open.get(match["path"])
            if connection is not None:
                connection.has_input = True
        elif match := _INTERFACE_DRIVER.match(message):
            self._bind(match["path"], match["driver"])

    def events(self, source: str) -> list[MediaEvent]:
        self._close_all()
        return [c.event(source) for c in self.closed if c.vendor_id]

    def _set_string(self, path: str, key: str, value: str) -> None:
        connection = self.open.get(path)
        if connection is None:
            return
        if key == "Product":
            connection.product = value
        elif key == "Manufacturer":
            connection.manufacturer = value
        else:
            connection.serial = value

    def _disconnect(self, path: str, number: str, time: dt.datetime) -> None:
        connection = self.open.get(path)
        if connection is not None and connection.number in ("", number):
            connection.last_seen = time
        self._close(path)

    def _bind(self, path: str, driver: str) -> None:
        connection = self.open.get(path)
        if connection is not None:
            connection.drivers.add(driver)

    def _bind_uas(self, time: dt.datetime) -> None:
        """`scsi hostN: uas` names no bus path. uas binds within moments of its device's
        enumeration, so it belongs to the newest connection opened just before that still
        has no driver and is not a keyboard or mouse."""
        candidates = [
            c
            for c in self.open.values()
            if c.vendor_id
            and not c.drivers
            and not c.has_input
            and dt.timedelta(0) <= time - c.time <= _UAS_BIND_WINDOW
        ]
        if candidates:
            max(candidates, key=lambda c: c.time).drivers.add("uas")

    def _close(self, path: str) -> None:
        connection = self.open.pop(path, None)
        if connection is not None:
            self.closed.append(connection)

    def _close_all(self) -> None:
        for path in list(self.open):
            self._close(path)


def _events(
    lines: Iterable[_KernelLine], source: str, since: dt.datetime | None
) -> tuple[MediaEvent, ...]:
    tracker = _ConnectionTracker()
    for line in lines:
        tracker.feed(line)
    events = tracker.events(source)
    if since is not None:
        events = [event for event in events if event.time is not None and event.time >= since]
    return tuple(sorted(events, key=lambda event: (event.time or _EPOCH, event.bus_path)))


def _aware(moment: dt.datetime) -> dt.datetime:
    """A naive `since` means local time, like every other time the agent shows a person."""
    return moment if moment.tzinfo is not None else moment.astimezone()

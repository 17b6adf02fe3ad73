"""What every import parser returns, and the helpers they share."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field

from server.errors import AdminError
from server.lib.storable import storable
from server.sightings.recording import Seen, device_mac

MAX_PROBLEMS = 50


class UnusableFileError(AdminError):
    """The file is not of the format asked for (or not text): nothing can be read from it."""


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Parsed:
    """The devices a file names, one per MAC (the latest line about it wins)."""

    view: list[Seen] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    rows: int = 0  # lines that named a device, before merging repeated MACs

    def problem(self, line: int, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, reason))


class ViewBuilder:
    """Collects Seen rows, keeping per MAC the one seen latest (or written last)."""

    def __init__(self) -> None:
        self.parsed = Parsed()
        self._by_mac: dict[str, Seen] = {}

    def add(self, line: int, mac_text: str, seen: Seen) -> None:
        mac = device_mac(mac_text)
        if mac is None:
            self.parsed.problem(
                line, f"{clean(mac_text)[:40]!r} is not the MAC address of a device"
            )
            return
        self.parsed.rows += 1
        seen = Seen(
            mac=mac,
            ip=seen.ip,
            where=clean(seen.where),
            vlan=clean(seen.vlan)[:16],
            name=clean(seen.name),
            state=clean(seen.state)[:32],
            at=seen.at,
        )
        previous = self._by_mac.get(mac)
        if (
            previous is None
            or previous.at is None
            or (seen.at is not None and seen.at >= previous.at)
        ):
            self._by_mac[mac] = seen

    def result(self) -> Parsed:
        self.parsed.view = list(self._by_mac.values())
        return self.parsed


def clean(text: str) -> str:
    """Storable, NFKC (full-width to ASCII), stripped, at most 200 characters."""
    return storable(unicodedata.normalize("NFKC", text)).strip()[:200]


def ip_or_empty(text: str) -> str:
    try:
        return str(ipaddress.ip_address(clean(text)))
    except ValueError:
        return ""


def at_most(moment: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    return None if moment is None else min(moment, now)


_HEADER_WORD = re.compile(r"[\s_\-/()（）]+")


def header_key(text: str) -> str:
    """A column name made comparable: NFKC, lower case, no spaces, dashes or brackets."""
    return _HEADER_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


def csv_rows(text: str) -> list[list[str]]:
    """Rows of a CSV (or tab-separated) text, dialect sniffed from its first lines."""
    sample = "\n".join(text.splitlines()[:20])
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    if delimiter == "," and sample.count(";") > sample.count(","):
        delimiter = ";"  # Excel in locales with a decimal comma
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))

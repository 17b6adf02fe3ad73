"""The members derived from snapshot.json: what `create` writes and `verify` regenerates.

hosts.csv, findings.csv, software.csv and snapshot.html are a pure function of snapshot.json
(its header, its host records in order, its summary), built by this module alone. `create`
writes them from the records it has just serialised; `verify` rebuilds them from the records
it reads and compares them, row by row, with the archive's — so spreadsheets or a page that
say "pass" where the records (checked against what the agents signed) say "fail" are caught
even when the server's key signed them, and the first differing row is named.

Each member is laid out in five parts, so that both sides produce it in one pass over the
hosts (two for the page, whose check sheets follow the summary) and never hold it whole:

    head(header)     before any host
    rows(host)       per host, in order (the CSV rows; the page's summary row)
    middle(tally)    after the last host's rows (the page's totals)
    sheets(host)     per host again, in order (the page's check sheets; nothing for a CSV)
    tail()           the end

A CSV member is split into rows (a quoted cell may hold a line break); the page into lines.

Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.snapshots import csv_export, printable
from server.snapshots.bundle import FINDINGS_CSV, HOSTS_CSV, PAGE, SOFTWARE_CSV
from server.snapshots.document import Header, Tally

Host = dict[str, Any]
Parts = list[bytes]


def _nothing(*_: Any) -> Parts:
    return []


@dataclass(frozen=True)
class Derived:
    name: str
    rows_are_csv: bool  # split into CSV rows (else into lines)
    head: Callable[[Header], Parts]
    rows: Callable[[Host], Parts]
    middle: Callable[[Tally], Parts] = _nothing
    sheets: Callable[[Host], Parts] = _nothing
    tail: Callable[[], Parts] = _nothing

    @property
    def unit(self) -> str:
        """What a difference is reported by: "row" (as spreadsheets number them) or "line"."""
        return "row" if self.rows_are_csv else "line"


DERIVED: tuple[Derived, ...] = (
    Derived(HOSTS_CSV, True, lambda _: csv_export.hosts_head(), csv_export.hosts_rows),
    Derived(FINDINGS_CSV, True, lambda _: csv_export.findings_head(), csv_export.findings_rows),
    Derived(SOFTWARE_CSV, True, lambda _: csv_export.software_head(), csv_export.software_rows),
    Derived(
        PAGE,
        False,
        printable.head,
        printable.summary_rows,
        printable.totals,
        printable.sheet,
        printable.tail,
    ),
)

"""Signals the fleet sends so other apps can react to new data without the ingest path
knowing them (rectification re-checks, alerts).

`report_ingested` is sent inside the ingest transaction, after the report, the host state
and the findings are stored: a receiver sees the new state, and an exception in a receiver
rolls the whole report back (the agent retries), so receivers must be quick and must not fail
on ordinary data.

    sender   the Report class
    host     the Host (saved, still locked by the ingest transaction)
    report   the stored Report
    changes  list[FindingChange] this report caused (empty for heartbeats, late reports and
             full reports that changed no status)
"""

from __future__ import annotations

from django.dispatch import Signal

report_ingested = Signal()

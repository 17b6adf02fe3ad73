"""Marking hosts silent that stopped reporting.

A host is silent once it has missed `missed` reports in a row: nothing for longer than
missed × its report interval, plus 10 % slack for the agents' schedule jitter and delivery
retries. `silent_since` is when it should have been heard from at the latest (last report +
missed × interval), which is what a dashboard shows, independent of when the sweep ran. The
next accepted report makes it active again (ingest).

One UPDATE per distinct report interval, so a sweep over 100,000 hosts is a handful of
statements, not a loop in Python.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.dispatch import Signal

from server.fleet.models import Host, HostStatus

SLACK = 1.10
# Sent after a sweep that marked hosts silent (kwargs: now, marked), for the alerts app;
# receivers' errors are logged, never raised into the sweep.
hosts_silenced = Signal()


def sweep(now: dt.datetime, missed: int) -> int:
    """Mark overdue active hosts silent; the number marked. Never-reporting hosts count from
    their enrollment."""
    active = Host.objects.filter(status=HostStatus.ACTIVE)
    marked = 0
    intervals = sorted(set(active.values_list("report_interval_seconds", flat=True)))
    for interval in intervals:
        cutoff = now - dt.timedelta(seconds=missed * interval * SLACK)
        overdue = Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True, first_seen__lt=cutoff)
        marked += active.filter(overdue, report_interval_seconds=interval).update(
            status=HostStatus.SILENT,
            silent_since=Coalesce(F("last_seen"), F("first_seen"))
            + dt.timedelta(seconds=missed * interval),
        )
    if marked:
        hosts_silenced.send_robust(sender=Host, now=now, marked=marked)
    return marked

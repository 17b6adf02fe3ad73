"""Writing the per-unit daily figures the overview's trend chart reads (`UnitDayStat`).

    rollup_today(now)        today's row for every unit, from the hosts' denormalised state
                             (one GROUP BY over hosts, summed up the tree); rewritten on each
                             run until the day is over, so a day keeps its last figures
    backfill(days, now)      the days before today that have no row yet, rebuilt from report
                             history: a host counts from its first day, in the state its
                             last report up to the end of that day gives (from its failed and
                             error counts, by `compliance_state`; silence is not recorded in
                             reports, so those days leave `silent` unknown)

Both run from `custos-server rollup`; `rollup_today` also from the server's background
sweeper every ROLLUP_EVERY (`rollup_if_due`). Days are local days (settings.TIME_ZONE).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterator

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from agent.protocol.compliance import ComplianceState, compliance_state
from server.accounts.models import Unit
from server.dashboard.counting import HostCounts, counts_by_unit, in_service, subtree_totals
from server.dashboard.models import UnitDayStat
from server.fleet.models import Host, Report

ROLLUP_EVERY = dt.timedelta(minutes=5)
_BATCH = 500
_last_run: dt.datetime | None = None
_last_run_lock = threading.Lock()


def _row(unit_id: int, day: dt.date, counts: HostCounts, now: dt.datetime) -> UnitDayStat:
    return UnitDayStat(
        unit_id=unit_id,
        day=day,
        hosts=counts.hosts,
        compliant=counts.compliant,
        noncompliant=counts.noncompliant,
        unchecked=counts.unchecked,
        silent=counts.silent,
        updated_at=now,
    )


def rollup_today(now: dt.datetime) -> int:
    """Write today's figures for every unit; the number of rows written."""
    day = timezone.localdate(now)
    units = list(Unit.objects.values_list("id", "path"))
    totals = subtree_totals(units, counts_by_unit(Host.objects.all()))
    rows = [_row(unit_id, day, counts, now) for unit_id, counts in totals.items()]
    UnitDayStat.objects.bulk_create(
        rows,
        batch_size=_BATCH,
        update_conflicts=True,
        unique_fields=["unit", "day"],
        update_fields=["hosts", "compliant", "noncompliant", "unchecked", "silent", "updated_at"],
    )
    return len(rows)


def rollup_if_due(now: dt.datetime) -> bool:
    """Run `rollup_today` when the last run from this process is ROLLUP_EVERY old."""
    global _last_run
    with _last_run_lock:
        if _last_run is not None and now - _last_run < ROLLUP_EVERY:
            return False
        _last_run = now
    rollup_today(now)
    return True


def _day_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone()
    )


def _state(failed: int | None, errors: int | None) -> ComplianceState | None:
    """A report's state from its counts (every report, heartbeats too, carries them); None
    for no report. Not the report's own `compliant`: agents before issue 8 sent true for a
    report whose only problems were rules they could not check."""
    if failed is None or errors is None:
        return None
    return compliance_state(["fail"] * min(failed, 1) + ["error"] * min(errors, 1))


_Event = tuple[dt.datetime, ComplianceState | None]


def _reports_by_host(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[int, list[_Event]]]:
    """(host pk, [(sent_at, state)...]) for each host with reports in [start, end)."""
    rows = (
        Report.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .order_by("host_id", "sent_at")
        .values_list("host_id", "sent_at", "failed", "errors")
        .iterator(chunk_size=5000)
    )
    current: int | None = None
    events: list[_Event] = []
    for host_pk, sent_at, failed, errors in rows:
        if host_pk != current:
            if current is not None:
                yield current, events
            current, events = host_pk, []
        events.append((sent_at, _state(failed, errors)))
    if current is not None:
        yield current, events


def backfill(days: int, now: dt.datetime) -> int:
    """Fill the `days` days before today that have no row yet; the number of rows added."""
    today = timezone.localdate(now)
    day_list = [today - dt.timedelta(days=back) for back in range(days, 0, -1)]
    if not day_list:
        return 0
    ends = [_day_end(day) for day in day_list]
    start = ends[0] - dt.timedelta(days=1)
    before = Report.objects.filter(host=OuterRef("pk"), sent_at__lt=start).order_by("-sent_at")
    hosts = (
        in_service(Host.objects.all())
        .annotate(
            failed_before=Subquery(before.values("failed")[:1]),
            errors_before=Subquery(before.values("errors")[:1]),
        )
        .order_by("id")
        .values_list("id", "unit_id", "first_seen", "failed_before", "errors_before")
    )
    own: dict[int, list[HostCounts]] = defaultdict(lambda: [HostCounts() for _ in day_list])
    history = _reports_by_host(start, ends[-1])
    pending = next(history, None)
    for host_pk, unit_id, first_seen, failed_before, errors_before in hosts.iterator(
        chunk_size=5000
    ):
        while pending is not None and pending[0] < host_pk:  # reports of revoked hosts
            pending = next(history, None)
        events: list[_Event] = []
        if pending is not None and pending[0] == host_pk:
            events, pending = pending[1], next(history, None)
        state = _state(failed_before, errors_before)
        position = 0
        for index, end in enumerate(ends):
            while position < len(events) and events[position][0] < end:
                state = events[position][1]
                position += 1
            if first_seen >= end:
                continue
            counts = own[unit_id][index]
            counts.hosts += 1
            counts.compliant += state is ComplianceState.COMPLIANT
            counts.noncompliant += state is ComplianceState.NONCOMPLIANT
            counts.unchecked += state is ComplianceState.UNCHECKED
    units = list(Unit.objects.values_list("id", "path"))
    rows: list[UnitDayStat] = []
    for index, day in enumerate(day_list):
        totals = subtree_totals(
            units, {unit_id: per_day[index] for unit_id, per_day in own.items()}
        )
        for unit_id, counts in totals.items():
            row = _row(unit_id, day, counts, now)
            row.silent = None
            rows.append(row)
    existing = UnitDayStat.objects.filter(day__in=day_list).count()
    UnitDayStat.objects.bulk_create(rows, batch_size=_BATCH, ignore_conflicts=True)
    return UnitDayStat.objects.filter(day__in=day_list).count() - existing

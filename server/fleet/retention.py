"""Thinning heartbeats: storage grows with change, not with time.

Every full report is kept (it is the evidence of a state). Of a host's heartbeats the server
keeps the newest (by seq) and the first of each UTC day (by sent_at): enough to show, for every
day, that the agent ran and its state was unchanged, at one row per host per day.

After each accepted heartbeat only two days can hold a heartbeat too many: the day of the new
one, and the day of the heartbeat that was the newest until now. Only those are looked at.
"""

from __future__ import annotations

import datetime as dt

from server.fleet.models import Host, Report, ReportKind


def newest_heartbeat(host: Host) -> Report | None:
    return (
        Report.objects.filter(host=host, kind=ReportKind.HEARTBEAT)
        .only("id", "seq", "sent_at")
        .order_by("-seq")
        .first()
    )


def _utc_day(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start = moment.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def prune_heartbeats(host: Host, days_of: list[dt.datetime]) -> int:
    """Delete the host's heartbeats on the days of `days_of` that are neither the first of
    their day nor the newest; the number deleted."""
    newest = newest_heartbeat(host)
    deleted = 0
    for start, end in {_utc_day(moment) for moment in days_of}:
        same_day = Report.objects.filter(
            host=host, kind=ReportKind.HEARTBEAT, sent_at__gte=start, sent_at__lt=end
        )
        first = same_day.order_by("sent_at", "seq").values_list("id", flat=True).first()
        keep = {first, newest.id if newest else None}
        deleted += same_day.exclude(id__in=[i for i in keep if i is not None]).delete()[0]
    return deleted

"""Times as people read them: in the server's time zone, to the minute or the second.

Storage is UTC (USE_TZ) and agents write ISO 8601 with an offset; a page, a notice or an alert
shows neither: it shows the wall-clock time of CUSTOS_TIME_ZONE (Asia/Shanghai by default),
never microseconds and never "+00:00". One place for the formats keeps every page alike.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

MINUTE = "%Y-%m-%d %H:%M"
SECOND = "%Y-%m-%d %H:%M:%S"


def local_text(moment: dt.datetime | None, fmt: str = SECOND) -> str:
    """A stored (aware) time on the server's clock; "—" for none."""
    if moment is None:
        return "—"
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.timezone.utc)
    return timezone.localtime(moment).strftime(fmt)


def parse_agent_time(value: object) -> dt.datetime | None:
    """The moment an ISO 8601 text with an offset names (as agents write them), else None:
    a date alone or a time without its offset is not a moment and stays text."""
    if not isinstance(value, str) or "T" not in value or len(value) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return None if timezone.is_naive(moment) else moment

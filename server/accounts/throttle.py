"""Slowing down password guessing at the sign-in page.

Two limits over a sliding window of WINDOW:
- per user name, MAX_PER_USERNAME failures: guessing one account's password stops early;
- per client address, MAX_PER_ADDRESS failures: one machine trying many names stops too.
The address limit is higher because behind a reverse proxy every request may come from the
proxy's address; the per-name limit still holds there. While a limit is reached, sign-in is
refused without looking at the password, so the refusal says nothing about it, and a refused
attempt is not counted (the wait does not grow while someone keeps trying).

A success clears that name's failures. Rows older than the window are pruned on each failure.
"""

from __future__ import annotations

import datetime as dt
import math

from django.db.models import Q

from server.accounts.models import LoginFailure

WINDOW = dt.timedelta(minutes=15)
MAX_PER_USERNAME = 5
MAX_PER_ADDRESS = 30
_MAX_USERNAME = 150
_MAX_ADDRESS = 64


def normalise_username(username: str) -> str:
    return username.strip().casefold()[:_MAX_USERNAME]


def _wait(times: list[dt.datetime], limit: int, now: dt.datetime) -> float:
    """Seconds until fewer than `limit` of `times` (inside the window) remain in it."""
    if len(times) < limit:
        return 0.0
    times.sort()
    frees_at = times[len(times) - limit] + WINDOW
    return max((frees_at - now).total_seconds(), 0.0)


def wait_seconds(username: str, address: str, now: dt.datetime) -> int:
    """0 when a sign-in attempt may go ahead, else how many seconds to wait."""
    name, since = normalise_username(username), now - WINDOW
    rows = LoginFailure.objects.filter(at__gt=since).filter(
        Q(username=name) | Q(address=address[:_MAX_ADDRESS])
    )
    by_name: list[dt.datetime] = []
    by_address: list[dt.datetime] = []
    for row_name, row_address, at in rows.values_list("username", "address", "at"):
        if row_name == name:
            by_name.append(at)
        if row_address == address[:_MAX_ADDRESS]:
            by_address.append(at)
    wait = max(_wait(by_name, MAX_PER_USERNAME, now), _wait(by_address, MAX_PER_ADDRESS, now))
    return math.ceil(wait)


def record_failure(username: str, address: str, now: dt.datetime) -> bool:
    """Count a failed attempt; True when it is the one that reaches a limit (audit it once)."""
    LoginFailure.objects.filter(at__lte=now - WINDOW).delete()
    LoginFailure.objects.create(
        username=normalise_username(username), address=address[:_MAX_ADDRESS], at=now
    )
    return wait_seconds(username, address, now) > 0


def clear(username: str) -> None:
    LoginFailure.objects.filter(username=normalise_username(username)).delete()

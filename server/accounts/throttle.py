"""Slowing down password guessing at the sign-in page without locking anyone out.

A hard lock per account lets anyone lock any user out by guessing wrong five times, and a
hard lock per address locks out everyone behind the same proxy or NAT. So, following OWASP's
advice and what django-axes calls per-(user, address) lockouts, failures only slow guessing
down, per *bucket*, and each bucket stays out of the way of the real user:

- pair: one account from one client address. The guesser at one address is slowed; the
  account's owner at another address is not.
- address: one client address trying any accounts (a machine going through a name list).
- account: one account from many addresses (a guesser spreading out), each address counting
  at most PAIR.free failures, so one address alone never reaches this limit.
- device: one account from one known device (server.accounts.device_cookie).

A sign-in that brings the account's device cookie is counted and slowed by its device bucket
only: nothing a guesser does elsewhere delays the owner on their own browser. Every other
sign-in is slowed by the pair, address and account buckets.

A bucket holding `free` failures or more (within WINDOW) makes the next attempt wait
FIRST_DELAY after its latest failure, doubling with each further failure up to MAX_DELAY.
While a wait runs, sign-in is refused without looking at the password, so the refusal says
nothing about it, and a refused attempt is not counted (the wait does not grow while
someone keeps trying). A success clears its pair and its device bucket.

Every bucket keys on the account name exactly as authentication reads it: Django's sign-in
form normalises the typed name with NFKC (`UsernameField`), so "ｗａｎｇ" and "𝐰ang" are
the account "wang" and must share its budget; casefolding on top merges "Wang" too.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass

from django.contrib.auth.forms import UsernameField
from django.db.models import Count, Max, QuerySet

from server.accounts.models import LoginFailure

WINDOW = dt.timedelta(hours=1)
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
MAX_USERNAME = 150
MAX_ADDRESS = 64


@dataclass(frozen=True)
class Limit:
    name: str
    free: int  # failures in the window before attempts wait


PAIR = Limit("pair", 5)
ADDRESS = Limit("address", 30)
ACCOUNT = Limit("account", 20)
DEVICE = Limit("device", 5)


def normalise_username(username: str) -> str:
    """The account name authentication uses (the sign-in form's own NFKC normalisation),
    casefolded and normalised again, cut to the column's length."""
    name = str(UsernameField().to_python(username) or "")
    return unicodedata.normalize("NFKC", name.casefold())[:MAX_USERNAME]


@dataclass(frozen=True)
class Attempt:
    """One sign-in: the account as typed, the client address, and the device id of the
    account's device cookie ("" when the browser brought none for this account)."""

    username: str
    address: str
    device: str = ""

    @property
    def name(self) -> str:
        return normalise_username(self.username)

    @property
    def client(self) -> str:
        return self.address[:MAX_ADDRESS]


@dataclass(frozen=True)
class BucketCount:
    failures: int
    latest: dt.datetime | None


def delay(failures: int, free: int) -> dt.timedelta:
    """How long after a bucket's latest failure the next attempt waits."""
    if failures < free:
        return dt.timedelta(0)
    doublings = min(failures - free, 32)  # past MAX_DELAY long before; keeps the number small
    grown: dt.timedelta = FIRST_DELAY * (2**doublings)
    return min(grown, MAX_DELAY)


def _counted(rows: QuerySet[LoginFailure]) -> BucketCount:
    found = rows.aggregate(failures=Count("id"), latest=Max("at"))
    return BucketCount(found["failures"], found["latest"])


def _account_count(name: str, since: dt.datetime) -> BucketCount:
    """The account's failures from unknown devices, at most PAIR.free per address."""
    per_address = (
        LoginFailure.objects.filter(username=name, device="", at__gt=since)
        .values("address")
        .annotate(failures=Count("id"), latest=Max("at"))
    )
    failures, latest = 0, None
    for row in per_address:
        failures += min(row["failures"], PAIR.free)
        latest = row["latest"] if latest is None else max(latest, row["latest"])
    return BucketCount(failures, latest)


def counts(attempt: Attempt, now: dt.datetime) -> dict[Limit, BucketCount]:
    """The failures in each bucket that applies to `attempt`."""
    since = now - WINDOW
    recent = LoginFailure.objects.filter(at__gt=since)
    if attempt.device:
        return {DEVICE: _counted(recent.filter(username=attempt.name, device=attempt.device))}
    unknown = recent.filter(device="")
    return {
        PAIR: _counted(unknown.filter(username=attempt.name, address=attempt.client)),
        ADDRESS: _counted(unknown.filter(address=attempt.client)),
        ACCOUNT: _account_count(attempt.name, since),
    }


def wait_seconds(attempt: Attempt, now: dt.datetime) -> int:
    """0 when the attempt may go ahead, else how many seconds it must wait."""
    wait = dt.timedelta(0)
    for limit, count in counts(attempt, now).items():
        if count.latest is not None:
            wait = max(wait, count.latest + delay(count.failures, limit.free) - now)
    return math.ceil(wait.total_seconds())


def record_failure(attempt: Attempt, now: dt.datetime) -> list[Limit]:
    """Count a failed attempt; the limits this very failure reached (audit each once)."""
    LoginFailure.objects.filter(at__lte=now - WINDOW).delete()
    before = counts(attempt, now)
    LoginFailure.objects.create(
        username=attempt.name, address=attempt.client, device=attempt.device, at=now
    )
    after = counts(attempt, now)
    return [
        limit
        for limit, count in after.items()
        if before[limit].failures < limit.free <= count.failures
    ]


def record_success(attempt: Attempt) -> None:
    """The account's owner got in: forget the failures of their device, or of their pair."""
    mine = LoginFailure.objects.filter(username=attempt.name)
    if attempt.device:
        mine.filter(device=attempt.device).delete()
    else:
        mine.filter(device="", address=attempt.client).delete()

"""Spot checks (抽查): "re-check now" for one host or every host of a unit's subtree.

The agents fetch their pending commands with each report (server.fleet.commands), run a full
check at once and name the command in `answered_commands`, which sets `Command.answered_at`.
A request is one SpotCheck row tying its commands together.

The commands are created in bulk and the request is one audit entry (unit, host count,
expiry) rather than one entry per host as the command line writes: a county is thousands of
hosts, and one admin action is one line in the log, with the SpotCheck listing every host.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from server.accounts import audit
from server.accounts.models import Unit
from server.fleet.models import Command, CommandKind, Host, HostStatus
from server.rectification.models import SpotCheck

MIN_HOURS = 1
MAX_HOURS = 7 * 24
DEFAULT_HOURS = 24
_BATCH = 500


def request_spot_check(
    unit: Unit,
    host: Host | None,
    hosts: QuerySet[Host],
    hours: int,
    user: User,
    actor: str,
    now: dt.datetime,
) -> SpotCheck:
    """One recheck command per host of `hosts` that is not revoked, grouped in a SpotCheck."""
    expires = now + dt.timedelta(hours=hours)
    with transaction.atomic():
        spot = SpotCheck.objects.create(
            unit=unit, host=host, requested_by=user, requested_at=now, expires_at=expires
        )
        targets = (
            hosts.exclude(status=HostStatus.REVOKED).order_by("id").values_list("id", flat=True)
        )
        commands = [
            Command(
                host_id=host_id,
                kind=CommandKind.RECHECK,
                created_at=now,
                expires_at=expires,
                created_by=user,
            )
            for host_id in targets
        ]
        Command.objects.bulk_create(commands, batch_size=_BATCH)
        through = SpotCheck.commands.through
        through.objects.bulk_create(
            [through(spotcheck_id=spot.pk, command_id=command.pk) for command in commands],
            batch_size=_BATCH,
        )
        audit.record(
            actor,
            "spotcheck.request",
            host.host_id if host else unit.path,
            {
                "spot_check": spot.pk,
                "unit": unit.path,
                "hosts": len(commands),
                "expires_at": expires.isoformat(),
            },
            at=now,
        )
    return spot


def with_progress(spot_checks: QuerySet[SpotCheck], now: dt.datetime) -> QuerySet[SpotCheck]:
    """Annotate each request with how many hosts answered, still may, or let it expire."""
    unanswered = Q(commands__answered_at__isnull=True)
    return spot_checks.annotate(
        total=Count("commands"),
        answered=Count("commands", filter=Q(commands__answered_at__isnull=False)),
        waiting=Count("commands", filter=unanswered & Q(commands__expires_at__gt=now)),
        expired=Count("commands", filter=unanswered & Q(commands__expires_at__lte=now)),
    )

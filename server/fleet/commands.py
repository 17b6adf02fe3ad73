"""Commands for hosts: created by an administrator, handed to the agent signed, answered by
the report that carries their id in `answered_commands`.

A command's wire id is its primary key as text. Answers are matched within the answering host
only, so one host can never mark another host's command as done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from agent.protocol import documents
from server.accounts import audit
from server.fleet.models import Command, CommandKind, Host, HostStatus, Report
from server.lib.ids import parse_id
from server.lib.server_key import current_server_key

DEFAULT_LIFETIME = dt.timedelta(hours=24)


def create_rechecks(
    hosts: QuerySet[Host], actor: str, now: dt.datetime, lifetime: dt.timedelta = DEFAULT_LIFETIME
) -> list[Command]:
    """One "re-check now" per host that is not revoked; audited as one action per host."""
    created = []
    with transaction.atomic():
        for host in hosts.exclude(status=HostStatus.REVOKED).order_by("id"):
            command = Command.objects.create(
                host=host, kind=CommandKind.RECHECK, created_at=now, expires_at=now + lifetime
            )
            audit.record(
                actor,
                "command.recheck",
                host.host_id,
                {"command": str(command.pk), "expires_at": command.expires_at.isoformat()},
            )
            created.append(command)
    return created


def pending_commands(host: Host, now: dt.datetime) -> list[Command]:
    return list(
        Command.objects.filter(host=host, answered_at__isnull=True, expires_at__gt=now).order_by(
            "id"
        )
    )


def signed_commands(host: Host, now: dt.datetime) -> dict[str, str]:
    """The commands document for `host`, signed with the server key (documents.py)."""
    return documents.commands_response(
        current_server_key(),
        host.host_id,
        [
            documents.Command(str(c.pk), c.kind, c.created_at, c.expires_at)
            for c in pending_commands(host, now)
        ],
        now,
    )


def answer_commands(host: Host, wire_ids: Iterable[str], report: Report, now: dt.datetime) -> int:
    """Mark the host's commands named in a report as answered; unknown ids are ignored."""
    ids = {number for number in map(parse_id, wire_ids) if number is not None}
    if not ids:
        return 0
    return Command.objects.filter(host=host, pk__in=ids, answered_at__isnull=True).update(
        answered_at=now, answered_report=report
    )

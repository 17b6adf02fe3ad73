"""Writing to and checking the hash-chained audit log.

    record(actor, action, target, details)   append one entry, chained to the last
    verify_chain()                           the id of the first entry that breaks, or None

Appends are serialised so that the chain never forks: on PostgreSQL by a transaction-level
advisory lock, on SQLite by the IMMEDIATE transaction that already holds the database's write
lock. What the chain cannot show is the removal of the newest entries; snapshots carry the
head hash so that an auditor can compare it later.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Mapping
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from server.accounts.models import AuditEntry
from server.accounts.models.audit_entry import GENESIS_HASH, entry_hash

_ADVISORY_LOCK_KEY = 0x637573746F73  # "custos"


def cli_actor() -> str:
    """Who acts from the command line: the operating-system account running it."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers with an arbitrary uid)
        name = "unknown"
    return f"cli:{name}"


def _serialise_appends() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def record(
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one entry; in the caller's transaction if there is one, so both commit together."""
    with transaction.atomic():
        _serialise_appends()
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        prev_hash = last or GENESIS_HASH
        moment = at or timezone.now()
        content = dict(details or {})
        entry = AuditEntry(
            at=moment,
            actor=actor[:200],
            action=action[:64],
            target=target[:300],
            details=content,
            prev_hash=prev_hash,
            hash=entry_hash(prev_hash, moment, actor[:200], action[:64], target[:300], content),
        )
        entry.save()
        return entry


def verify_chain() -> int | None:
    """The id of the first entry whose links or contents do not match, None if all hold."""
    expected_prev = GENESIS_HASH
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != expected_prev or entry.hash != entry.computed_hash():
            return entry.id
        expected_prev = entry.hash
    return None

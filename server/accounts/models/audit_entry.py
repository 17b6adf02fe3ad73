"""One entry of the append-only, hash-chained audit log.

Each entry stores the previous entry's hash and its own: sha256(prev_hash + canonical JSON of
(at, actor, action, target, details)). Changing, inserting or deleting a row in the middle
breaks the chain from that row on (`server.accounts.audit.verify_chain`). The model refuses to
save an existing row or to delete, including through querysets, so no code path of the
application can rewrite history; the chain catches whatever goes around the application.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import models

from agent.protocol.canonical import canonical_json
from server.errors import AppendOnlyError

GENESIS_HASH = "0" * 64


def entry_hash(
    prev_hash: str, at: dt.datetime, actor: str, action: str, target: str, details: Any
) -> str:
    body = canonical_json(
        {
            "at": at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details,
        }
    )
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are never deleted")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditEntry]:
        raise AppendOnlyError("audit entries are appended one by one, through audit.record")


class AuditEntry(models.Model):
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)  # "user:<name>", "cli:<os user>", "token:<id>"
    action = models.CharField(max_length=64)  # "host.enroll", "token.create", ...
    target = models.CharField(max_length=300)
    details = models.JSONField(default=dict)
    # unique: two writers racing on the same tail would fork the chain; one of them fails.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at.isoformat()} {self.actor} {self.action} {self.target}"

    def computed_hash(self) -> str:
        return entry_hash(
            self.prev_hash, self.at, self.actor, self.action, self.target, self.details
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"audit entry {self.pk} is already written")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"audit entry {self.pk} cannot be deleted")

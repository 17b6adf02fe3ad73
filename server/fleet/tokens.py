"""Creating and revoking enrollment tokens.

A token is 32 random bytes (URL-safe base64); only its SHA-256 is stored. It belongs to one
unit, expires, and counts down its uses, so a leaked token enrolls few machines, for a short
time, into one unit, and can be revoked as soon as the leak is known.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from server.accounts import audit
from server.accounts.models import Unit
from server.errors import AdminError
from server.fleet.models import EnrollmentToken

MAX_USES = 100_000
TOKEN_PREFIX = "cet_"  # noqa: S105 - "Custos enrollment token", a prefix, not a secret
MAX_DAYS = 365


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    unit: Unit, uses: int, expires_days: int, actor: str, note: str = ""
) -> tuple[EnrollmentToken, str]:
    """The stored token row and the token itself, which is shown once and never stored."""
    if not 1 <= uses <= MAX_USES:
        raise AdminError(f"--uses: from 1 to {MAX_USES}")
    if not 1 <= expires_days <= MAX_DAYS:
        raise AdminError(f"--expires-days: from 1 to {MAX_DAYS}")
    # The prefix names what it is and keeps the token from starting with "-", which a
    # command line (`custos-agent enroll --token TOKEN`) would take for an option.
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = EnrollmentToken.objects.create(
            unit=unit,
            token_sha256=token_digest(token),
            expires_at=timezone.now() + dt.timedelta(days=expires_days),
            uses_left=uses,
            note=note[:200],
        )
        audit.record(
            actor,
            "token.create",
            f"token:{row.pk}",
            {"unit": unit.path, "uses": uses, "expires_at": row.expires_at.isoformat()},
        )
    return row, token


def revoke_token(token_id: int, actor: str) -> EnrollmentToken:
    with transaction.atomic():
        row = EnrollmentToken.objects.filter(pk=token_id).select_related("unit").first()
        if row is None:
            raise AdminError(f"no enrollment token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            audit.record(actor, "token.revoke", f"token:{row.pk}", {"unit": row.unit.path})
    return row

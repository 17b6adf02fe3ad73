"""Enrollment tokens: per unit, expiring, limited in uses, revocable, stored as SHA-256 only.

The token itself is printed once when it is created; the database holds only its hash, so a
copy of the database does not let anyone enroll machines.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from server.accounts.models import Unit


class EnrollmentToken(models.Model):
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="tokens")
    token_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    uses_left = models.PositiveIntegerField(default=1)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"token {self.pk} for {self.unit.path}"

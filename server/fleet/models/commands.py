"""Commands for a host ("re-check now"), pending until a report says it answered them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from server.fleet.models.hosts import Host
from server.fleet.models.reports import Report


class CommandKind(models.TextChoices):
    RECHECK = "recheck", "recheck"


class Command(models.Model):
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="commands")
    kind = models.CharField(max_length=16, choices=CommandKind.choices)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # A heartbeat that answered may be thinned out later; the answer time stays.
    answered_report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = (models.Index(fields=("host", "answered_at"), name="command_host_pending"),)

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} for {self.host.host_id}"

"""Failed sign-ins, kept for the throttle's window only (`server.accounts.throttle`).

The database, not process memory, holds them: `custos-server run` serves from several worker
processes, and a limit each worker counted on its own would multiply by their number.
"""

from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    username = models.CharField(max_length=150)  # as authentication reads it, case-folded
    address = models.CharField(max_length=64)  # the client address (trusted proxies resolved)
    device = models.CharField(max_length=32, blank=True)  # a known device's id, or ""
    at = models.DateTimeField()

    class Meta:
        indexes = (
            models.Index(fields=("username", "at"), name="login_failure_user"),
            models.Index(fields=("address", "at"), name="login_failure_address"),
            models.Index(fields=("at",), name="login_failure_at"),
            models.Index(fields=("username", "device", "at"), name="login_failure_device"),
        )

    def __str__(self) -> str:
        device = f" (known device {self.device[:8]})" if self.device else ""
        return f"{self.username} from {self.address}{device} at {self.at.isoformat()}"

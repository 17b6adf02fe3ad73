"""Failed sign-ins, kept for the throttle's window only (`server.accounts.throttle`).

The database, not process memory, holds them: `custos-server run` serves from several worker
processes, and a limit each worker counted on its own would multiply by their number.
"""

from __future__ import annotations

from django.db import models


class LoginFailure(models.Model):
    username = models.CharField(max_length=150)  # as typed, case-folded
    address = models.CharField(max_length=64)  # the client address the server saw
    at = models.DateTimeField()

    class Meta:
        indexes = (
            models.Index(fields=("username", "at"), name="login_failure_user"),
            models.Index(fields=("address", "at"), name="login_failure_address"),
            models.Index(fields=("at",), name="login_failure_at"),
        )

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.at.isoformat()}"

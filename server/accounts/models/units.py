"""The unit tree and who holds which role where.

A unit stores its materialised `path` ("province/city/county/unit") besides its parent:
"everything under this unit" is then one indexed prefix query, which every scoped dashboard
query needs, instead of a walk down the tree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

PATH_SEPARATOR = "/"


class Unit(models.Model):
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1000, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("path",)
        constraints = (
            models.UniqueConstraint(fields=("parent", "name"), name="unit_name_unique_in_parent"),
        )

    def __str__(self) -> str:
        return self.path

    def ancestor_paths(self) -> list[str]:
        """This unit's path and those of every unit above it, the root first."""
        parts = self.path.split(PATH_SEPARATOR)
        return [PATH_SEPARATOR.join(parts[: index + 1]) for index in range(len(parts))]


class Role(models.TextChoices):
    ADMIN = "admin", "admin"  # acts on the unit's subtree: tokens, policies, commands
    AUDITOR = "auditor", "auditor"  # reads the subtree and pulls snapshots


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("user", "unit"), name="membership_once_per_unit"),
        )

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.unit.path}"

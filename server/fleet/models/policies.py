"""Stored policies and which unit they are assigned to.

A host's effective policy is the assignment on its own unit or, failing that, on the nearest
unit above it: a province sets a baseline, a county may set a stricter one for its subtree.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from server.accounts.models import Unit


class Policy(models.Model):
    policy_id = models.CharField(max_length=64)
    version = models.CharField(max_length=64)
    yaml_text = models.TextField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("policy_id", "version"), name="policy_version_once"),
        )

    def __str__(self) -> str:
        return f"{self.policy_id} {self.version}"


class PolicyAssignment(models.Model):
    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="policy_assignment")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.policy} on {self.unit.path}"

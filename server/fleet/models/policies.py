"""Stored policies and which unit they are assigned to.

A host's effective policy is the assignment on its own unit or, failing that, on the nearest
unit above it: a province sets a baseline, a county may set a stricter one for its subtree.

A policy id belongs to a unit subtree (`owner`): (id, version) names one text within it, so
two counties may both write their own "intranet-office 2026.11", and a county uploading
one learns nothing about the other's. Policies stored from the command line or by a
superuser have no owner: their ids are shared by the whole server.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
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
    owner = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_policies"
    )

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("owner", "policy_id", "version"), name="policy_version_once_per_owner"
            ),
            # NULLs never clash in a unique constraint: the shared ids need their own.
            models.UniqueConstraint(
                fields=("policy_id", "version"),
                condition=Q(owner__isnull=True),
                name="policy_version_once_shared",
            ),
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

"""Every accepted report, with the request body kept byte for byte as evidence.

The envelope bytes are what the agent signed; snapshots hand them to auditors, who can check
the signature offline. The other columns are read out of them for queries and never replace
them. Full reports are kept; heartbeats are thinned (see `server.fleet.retention`).
"""

from __future__ import annotations

from django.db import models

from server.fleet.models.hosts import Host


class ReportKind(models.TextChoices):
    FULL = "full", "full"
    HEARTBEAT = "heartbeat", "heartbeat"


class Report(models.Model):
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="reports")
    seq = models.BigIntegerField()
    received_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    envelope = models.BinaryField()
    trigger = models.CharField(max_length=16)
    state_hash = models.CharField(max_length=64)
    policy_id = models.CharField(max_length=64)
    policy_version = models.CharField(max_length=64)
    policy_sha256 = models.CharField(max_length=64)
    compliant = models.BooleanField()
    passed = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    errors = models.PositiveIntegerField()
    not_applicable = models.PositiveIntegerField()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("host", "seq"), name="report_seq_once"),)
        indexes = (models.Index(fields=("host", "kind", "sent_at"), name="report_host_kind_sent"),)

    def __str__(self) -> str:
        return f"{self.host.host_id} #{self.seq} {self.kind}"

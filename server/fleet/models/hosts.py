"""An enrolled machine: its key, identity and asset fields, and where its reports stand."""

from __future__ import annotations

from django.db import models

from agent.protocol.compliance import ComplianceState
from server.accounts.models import Unit
from server.fleet.os_support import is_unsupported_os

DEFAULT_REPORT_INTERVAL = 3600


class HostStatus(models.TextChoices):
    ACTIVE = "active", "active"  # reporting on schedule
    SILENT = "silent", "silent"  # missed CUSTOS_SILENT_AFTER_MISSED reports (sweep)
    REVOKED = "revoked", "revoked"  # its reports are refused (host_revoked)


class Host(models.Model):
    host_id = models.CharField(max_length=34, unique=True)  # "h_" + 32 hex digits
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="hosts")
    public_key = models.BinaryField(max_length=32)  # raw Ed25519; reports verify against it
    enrolled_with = models.ForeignKey(
        "fleet.EnrollmentToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Identity, from enrollment and then from each full report. `machine_id` stays as
    # enrolled: a full report naming another one is how a cloned identity shows.
    hostname = models.CharField(max_length=255, blank=True)
    fqdn = models.CharField(max_length=255, blank=True)
    machine_id = models.CharField(max_length=128, blank=True)
    platform = models.CharField(max_length=16, blank=True)
    os_name = models.CharField(max_length=128, blank=True)
    os_version = models.CharField(max_length=128, blank=True)
    mac_addresses = models.JSONField(default=list)
    ip_addresses = models.JSONField(default=list)
    disk_serials = models.JSONField(default=list)

    # Asset register fields (the check sheet's columns), as the agent's config states them.
    machine_number = models.CharField(max_length=255, blank=True)
    responsible_person = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    classification = models.CharField(max_length=255, blank=True)
    purpose = models.CharField(max_length=255, blank=True)

    status = models.CharField(max_length=16, choices=HostStatus.choices, default=HostStatus.ACTIVE)
    clone_suspected_at = models.DateTimeField(null=True, blank=True)
    clone_reason = models.TextField(blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(null=True, blank=True)
    last_report = models.ForeignKey(
        "fleet.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Anti-replay: the highest seq accepted and a 64-bit window of the seqs below it (bit i
    # set = seq last_seq - i accepted), stored as a signed 64-bit integer (see sequence.py).
    last_seq = models.BigIntegerField(default=0)
    seq_window = models.BigIntegerField(default=0)
    report_interval_seconds = models.PositiveIntegerField(default=DEFAULT_REPORT_INTERVAL)
    silent_since = models.DateTimeField(null=True, blank=True)
    last_full_state_hash = models.CharField(max_length=64, blank=True)

    # Denormalised for the dashboard, kept current by ingest (server.fleet.state), so that
    # overview and host lists count hosts without reading findings or reports. `compliance`
    # is a ComplianceState value (compliant, noncompliant, unchecked: agent.protocol.
    # compliance decides), None until the first full report: no one knows yet.
    compliance = models.CharField(
        max_length=16,
        choices=[(state.value, state.value) for state in ComplianceState],
        null=True,
        blank=True,
    )
    failed_count = models.PositiveIntegerField(default=0)
    unchecked_count = models.PositiveIntegerField(default=0)  # rules with status `error`
    failing_software = models.BooleanField(default=False)
    failing_media = models.BooleanField(default=False)
    failing_internet = models.BooleanField(default=False)
    failing_asset = models.BooleanField(default=False)
    policy_id = models.CharField(max_length=64, blank=True)  # of the newest report
    policy_version = models.CharField(max_length=64, blank=True)

    @property
    def os_unsupported(self) -> bool:
        """Its reports name an OS the agent does not support (Windows before 10)."""
        return is_unsupported_os(self.platform, self.os_name, self.os_version)

    class Meta:
        indexes = (
            models.Index(fields=("status", "last_seen"), name="host_status_seen"),
            models.Index(fields=("unit", "status"), name="host_unit_status"),
            models.Index(fields=("hostname",), name="host_hostname"),
            models.Index(fields=("last_seen",), name="host_last_seen"),
        )

    def __str__(self) -> str:
        return f"{self.host_id} ({self.hostname})"

    @property
    def compliant(self) -> bool | None:
        """Whether every applicable rule was checked and passed; None before the first full
        report. A host whose rules could not all be checked is not compliant."""
        if self.compliance is None:
            return None
        return self.compliance == ComplianceState.COMPLIANT.value

"""The current result of every rule on every host, and the history of its changes.

`LatestFinding` answers "what is wrong now" without reading reports; `FindingChange` answers
"since when, and what was it before", which rectification tracking needs.
"""

from __future__ import annotations

from django.db import models

from server.fleet.models.hosts import Host
from server.fleet.models.reports import Report


class LatestFinding(models.Model):
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=64)
    category = models.CharField(max_length=16)
    severity = models.CharField(max_length=16)
    status = models.CharField(max_length=16)  # pass | fail | error | not_applicable
    title_zh = models.TextField()
    title_en = models.TextField()
    message_zh = models.TextField()
    message_en = models.TextField()
    remedy_zh = models.TextField(blank=True)
    remedy_en = models.TextField(blank=True)
    evidence = models.JSONField(default=dict)
    # Required-software rules: `required` marks their rows, whatever their status, and
    # `installed` / `running` are read from the evidence at ingest (None where not known:
    # the source could not be read, or the rule does not ask) so the overview's install and
    # running rates are one indexed aggregate. None on every other rule.
    required = models.BooleanField(default=False)
    installed = models.BooleanField(null=True, blank=True)
    running = models.BooleanField(null=True, blank=True)
    first_seen = models.DateTimeField()  # the first report naming this rule
    last_seen = models.DateTimeField()  # the latest full report naming it
    since = models.DateTimeField()  # when the current status began
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("host", "rule"), name="latest_finding_per_rule"),
        )
        indexes = (
            models.Index(fields=("status", "severity"), name="finding_status_severity"),
            models.Index(fields=("status", "rule"), name="finding_status_rule"),
            # Required-software rows only: the overview's rates read them host by host
            # (covering: the status tells the ones that could not be checked), rule by rule
            # for the titles. `required` is a key column too, although the condition already
            # implies it: SQLite evaluates the query's "required" term from the index only
            # when the index holds the column, and otherwise reads every row of the table.
            models.Index(
                fields=("host", "rule", "installed", "running", "status", "required"),
                name="finding_required_by_host",
                condition=models.Q(required=True),
            ),
            models.Index(
                fields=("rule",),
                name="finding_required_by_rule",
                condition=models.Q(required=True),
            ),
        )

    def __str__(self) -> str:
        return f"{self.host.host_id} {self.rule}={self.status}"


class FindingChange(models.Model):
    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="finding_changes")
    rule = models.CharField(max_length=64)
    old_status = models.CharField(max_length=16, blank=True)  # "" = the rule was not there
    new_status = models.CharField(max_length=16, blank=True)  # "" = the rule went away
    at = models.DateTimeField()
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = (models.Index(fields=("host", "rule", "at"), name="finding_change_host_rule"),)

    def __str__(self) -> str:
        return f"{self.host.host_id} {self.rule}: {self.old_status or '-'} -> {self.new_status}"

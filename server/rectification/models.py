"""Rectification notices (整改通知), their history, and spot-check requests.

A notice freezes the finding it was issued for (title, message, remedy, severity, category,
evidence in both languages): the host's LatestFinding keeps changing with every report, but a
notice, once printed and signed, must keep saying what was wrong when it was issued.

Life of a notice:
    open        issued by an admin from a failing finding, with a person and a deadline
    rechecked   a later report of the host shows the rule passing (set by ingest, see
                `server.rectification.recheck`); a report showing it failing again, or not
                able to check it (`error`), puts it back to open
    closed      销号: an admin closes it, normally only once rechecked; closing an open one
                needs an override reason, which the history and the audit log keep
Overdue is not a status: it is "deadline passed and not closed", computed from the date.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from server.accounts.models import Unit
from server.fleet.models import Command, Host, Report


class Status(models.TextChoices):
    OPEN = "open", _("open")
    RECHECKED = "rechecked", _("re-checked")
    CLOSED = "closed", _("closed")


NOT_CLOSED = (Status.OPEN, Status.RECHECKED)


class Rectification(models.Model):
    host = models.ForeignKey(Host, on_delete=models.PROTECT, related_name="rectifications")
    rule = models.CharField(max_length=64)

    # The finding as it was when the notice was issued.
    title_zh = models.TextField()
    title_en = models.TextField()
    message_zh = models.TextField()
    message_en = models.TextField()
    remedy_zh = models.TextField(blank=True)
    remedy_en = models.TextField(blank=True)
    severity = models.CharField(max_length=16)
    category = models.CharField(max_length=16)
    evidence = models.JSONField(default=dict)
    # When the host started failing the rule (LatestFinding.since at issue time): the notice's
    # 发现于. Null only for notices issued before it was recorded whose start is not known.
    found_at = models.DateTimeField(null=True, blank=True)

    responsible_person = models.CharField(max_length=255)
    deadline = models.DateField()
    remark = models.TextField(blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField()
    rechecked_at = models.DateTimeField(null=True, blank=True)
    rechecked_report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_override_reason = models.TextField(blank=True)

    class Meta:
        constraints = (
            # One notice per problem at a time: a second one for the same host and rule would
            # split the history and be re-checked twice.
            models.UniqueConstraint(
                fields=("host", "rule"),
                condition=~Q(status="closed"),
                name="rectification_one_open_per_rule",
            ),
        )
        indexes = (models.Index(fields=("status", "deadline"), name="rectification_due"),)

    def __str__(self) -> str:
        return f"rectification {self.pk} {self.host.host_id} {self.rule} ({self.status})"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status != Status.CLOSED and self.deadline < today

    def requirement(self, chinese: bool) -> str:
        """整改要求 as a notice prints it: the rule's remedy and the admin's remark, each said
        once. The issue form starts the remark with the remedy, which admins often keep or
        extend: a remark that already holds the remedy (in either language) is the whole
        requirement."""
        first, second = (
            (self.remedy_zh, self.remedy_en) if chinese else (self.remedy_en, self.remedy_zh)
        )
        remedy = (first or second).strip()
        remark = self.remark.strip()
        if not remark:
            return remedy
        said = [text.strip() for text in (self.remedy_zh, self.remedy_en) if text.strip()]
        if not remedy or any(text in remark for text in said):
            return remark
        return f"{remedy}\n{remark}"


class EventKind(models.TextChoices):
    ISSUED = "issued", _("issued")
    RECHECKED = "rechecked", _("re-check passed")
    FAILED_AGAIN = "failed_again", _("failed again")
    UNCHECKED = "unchecked", _("could not be re-checked")
    CLOSED = "closed", _("closed")
    CLOSED_OVERRIDE = "closed_override", _("closed without a passing re-check")


class RectificationEvent(models.Model):
    """One step in a notice's history, for its detail page."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.CharField(max_length=200)  # as in the audit log: "user:<name>", "host:<id>"
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.rectification_id} {self.kind} at {self.at.isoformat()}"


class SpotCheck(models.Model):
    """One "re-check now" request by an admin, for one host or a unit's subtree.

    The commands themselves live in the fleet app (agents fetch and answer them there); this
    row groups those of one request, so the page can say who answered and who did not.
    """

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    host = models.ForeignKey(
        Host, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # set when one host was asked; otherwise the whole subtree of `unit`
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    commands = models.ManyToManyField(Command, related_name="+")

    class Meta:
        ordering = ("-requested_at", "-id")

    def __str__(self) -> str:
        return f"spot check {self.pk} of {self.unit.path}"

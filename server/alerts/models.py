"""Alert settings per unit, the alerts raised, and their delivery per channel.

An Alert is one event (a new serious violation on a host, a serious rule that can no longer
be checked on a host, a host gone silent, a notice overdue), recorded once (`key` is unique).
Each unit on the path from the host's unit up to the root that has alerts switched on gets an
AlertDelivery per channel: a county's admins hear about their whole subtree, a school's
admins about theirs. A delivery is sent at the next run (immediate) or in the unit's daily
digest, and records its attempts and last error.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from server.accounts.models import Unit
from server.fleet.models import Host


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", _("immediately")
    DIGEST = "digest", _("once a day (digest)")


class AlertSettings(models.Model):
    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="alert_settings")
    email_enabled = models.BooleanField(default=False)
    webhook_url = models.URLField(max_length=500, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IMMEDIATE)
    digest_hour = models.PositiveSmallIntegerField(default=8)  # local time, 0-23
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who entered the current webhook URL: the one reader of it in full (webhook_origin.py).
    webhook_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The local day of the last digest per channel: one digest per unit and channel a day.
    email_digest_on = models.DateField(null=True, blank=True)
    webhook_digest_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "alert settings"

    def __str__(self) -> str:
        return f"alerts of {self.unit.path}"

    @property
    def active(self) -> bool:
        return self.email_enabled or bool(self.webhook_url)


class Kind(models.TextChoices):
    VIOLATION = "violation", _("new serious violation")
    UNCHECKED = "unchecked", _("serious rule could not be checked")
    SILENT = "silent", _("host silent")
    OVERDUE = "overdue", _("rectification overdue")


class Alert(models.Model):
    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)  # one alert per event
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")  # the host's unit
    host = models.ForeignKey(
        Host, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rectification = models.ForeignKey(
        "rectification.Rectification",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    rule = models.CharField(max_length=64, blank=True)
    severity = models.CharField(max_length=16, blank=True)
    title_zh = models.TextField(blank=True)
    title_en = models.TextField(blank=True)
    occurred_at = models.DateTimeField()  # the event's time (finding change, silent since)
    created_at = models.DateTimeField()
    data = models.JSONField(default=dict)  # kind-specific: deadline, person responsible, ...

    class Meta:
        indexes = (models.Index(fields=("unit", "created_at"), name="alert_unit_created"),)

    def __str__(self) -> str:
        return f"{self.kind} alert {self.pk} ({self.key})"

    def _problem(self, lang: str) -> str:
        """What is wrong (stored when raised, see agent.problem_text), else the rule's title;
        alerts raised before the words were stored have only the title."""
        problem = self.data.get("problem") if isinstance(self.data, dict) else None
        words = problem.get(lang) if isinstance(problem, dict) else None
        title = self.title_zh if lang == "zh" else self.title_en
        return str(words or title or self.title_zh or self.title_en or self.rule)

    @property
    def problem_zh(self) -> str:
        return self._problem("zh")

    @property
    def problem_en(self) -> str:
        return self._problem("en")


class Channel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    WEBHOOK = "webhook", _("webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class AlertDelivery(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    target = models.ForeignKey(AlertSettings, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # The run that took this delivery to send it (server.alerts.delivery.claim).
    claim_token = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("alert", "target", "channel"), name="alert_delivery_once"
            ),
        )
        indexes = (models.Index(fields=("status", "next_attempt_at"), name="alert_delivery_due"),)

    def __str__(self) -> str:
        return f"{self.channel} delivery of alert {self.alert_id} ({self.status})"


class Language(models.TextChoices):
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"


class AlertLanguage(models.Model):
    """The language a person's alert e-mails are written in (Chinese unless they chose)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_language"
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ZH)

    def __str__(self) -> str:
        return f"{self.user} reads alerts in {self.language}"

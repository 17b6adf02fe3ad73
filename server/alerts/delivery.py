"""Sending due alert deliveries by e-mail (Django's SMTP backend) and webhook (httpx).

    run(now)   record overdue notices and silent hosts, then send what is due; the
               `custos-server alerts send` command and the sweeper thread both call it

Per unit and channel, one run sends one message: all its pending deliveries together (a
burst of violations is one e-mail, not hundreds). In digest mode that message goes out once
a local day, at the first run after the unit's digest hour. A failed send is retried at later
runs with growing delays, up to MAX_ATTEMPTS; attempts, time and error stay on each delivery.

Runs may overlap: the sweeper of each `custos-server run` sharing one PostgreSQL, or a cron
`custos-server alerts send` beside it. A run sends only what it claimed first (`claim`): one
UPDATE that moves the deliveries' next attempt CLAIM_LEASE ahead and marks them with the run's
token, so no other run sees them as due. A run that dies mid-send leaves them due again once
the lease is over; they are then sent again (at least once, not exactly once).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.db.models import F
from django.utils import timezone, translation

from agent import __version__
from server.accounts.models import Role
from server.alerts import texts, webhook_origin
from server.alerts.models import (
    AlertDelivery,
    AlertLanguage,
    AlertSettings,
    Channel,
    DeliveryStatus,
    Language,
    Mode,
)
from server.alerts.raising import record_overdue, record_silent_hosts

logger = logging.getLogger("server.alerts")

MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT_SECONDS = 10.0
MAX_PER_RUN = 5000
MAX_ERROR_CHARS = 500
CLAIM_LEASE = dt.timedelta(minutes=15)  # far longer than a send (webhook timeout 10 s)


@dataclass
class RunSummary:
    raised_overdue: int = 0
    raised_silent: int = 0
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


class DeliveryError(Exception):
    """A message could not be handed over; the text goes to `last_error`."""


def backoff(attempts: int) -> dt.timedelta:
    """5, 10, 20, 40, 80 minutes ... capped at 6 hours."""
    return dt.timedelta(minutes=min(5 * 2 ** max(attempts - 1, 0), 360))


def run(now: dt.datetime | None = None) -> RunSummary:
    moment = now or timezone.now()
    summary = RunSummary()
    summary.raised_overdue = record_overdue(moment)
    summary.raised_silent = record_silent_hosts(moment)
    send_due(moment, summary)
    return summary


def send_due(now: dt.datetime, summary: RunSummary) -> None:
    due = (
        AlertDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .select_related("alert", "alert__unit", "alert__host", "target", "target__unit")
        .order_by("id")[:MAX_PER_RUN]
    )
    groups: dict[tuple[int, str], list[AlertDelivery]] = defaultdict(list)
    for delivery in due:
        groups[(delivery.target_id, delivery.channel)].append(delivery)
    for (_target_id, channel), deliveries in groups.items():
        target = deliveries[0].target
        _send_group(target, channel, deliveries, now, summary)


def claim(deliveries: list[AlertDelivery], now: dt.datetime) -> list[AlertDelivery]:
    """Those of `deliveries` this run may send: the ones still due when it claimed them,
    in one UPDATE (another run that got there first has moved them out of being due)."""
    token = secrets.token_hex(16)
    AlertDelivery.objects.filter(
        pk__in=[d.pk for d in deliveries],
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
    ).update(claim_token=token, next_attempt_at=now + CLAIM_LEASE)
    mine = set(AlertDelivery.objects.filter(claim_token=token).values_list("pk", flat=True))
    return [delivery for delivery in deliveries if delivery.pk in mine]


def _digest_gate_open(target: AlertSettings, channel: str, now: dt.datetime) -> bool:
    local = timezone.localtime(now)
    last = target.email_digest_on if channel == Channel.EMAIL else target.webhook_digest_on
    return local.hour >= target.digest_hour and last != local.date()


def _send_group(
    target: AlertSettings,
    channel: str,
    deliveries: list[AlertDelivery],
    now: dt.datetime,
    summary: RunSummary,
) -> None:
    switched_on = target.email_enabled if channel == Channel.EMAIL else bool(target.webhook_url)
    if not switched_on:
        _give_up(deliveries, now, "the unit switched this channel off before it was sent")
        summary.failed += len(deliveries)
        return
    digest = target.mode == Mode.DIGEST
    if digest and not _digest_gate_open(target, channel, now):
        summary.waiting += len(deliveries)
        return
    deliveries = claim(deliveries, now)
    if not deliveries:
        return  # another run is sending them
    try:
        if channel == Channel.EMAIL:
            _send_email(target, deliveries, digest, now)
        else:
            _send_webhook(target, deliveries, digest, now)
    except DeliveryError as exc:
        message = str(exc)[:MAX_ERROR_CHARS]
        logger.warning("alert %s to %s failed: %s", channel, target.unit.path, message)
        summary.errors.append(f"{target.unit.path} {channel}: {message}")
        summary.failed += _failed_attempt(deliveries, now, message)
        return
    AlertDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        status=DeliveryStatus.SENT,
        sent_at=now,
        last_attempt_at=now,
        last_error="",
        attempts=F("attempts") + 1,
    )
    if digest:
        field_name = "email_digest_on" if channel == Channel.EMAIL else "webhook_digest_on"
        AlertSettings.objects.filter(pk=target.pk).update(**{field_name: timezone.localdate(now)})
    summary.sent += len(deliveries)


def _failed_attempt(deliveries: list[AlertDelivery], now: dt.datetime, error: str) -> int:
    """Record the attempt; the number of deliveries that have now run out of attempts."""
    exhausted = 0
    for delivery in deliveries:
        delivery.attempts += 1
        delivery.last_error, delivery.last_attempt_at = error, now
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            exhausted += 1
        delivery.save(
            update_fields=["attempts", "last_error", "last_attempt_at", "next_attempt_at", "status"]
        )
    return exhausted


def _give_up(deliveries: list[AlertDelivery], now: dt.datetime, error: str) -> None:
    AlertDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        status=DeliveryStatus.FAILED, last_error=error, last_attempt_at=now
    )


# --- e-mail --------------------------------------------------------------------------------


def recipients(target: AlertSettings) -> list[tuple[str, str]]:
    """(address, language) of each active admin of the unit who has an e-mail address."""
    users = (
        User.objects.filter(
            memberships__unit=target.unit, memberships__role=Role.ADMIN, is_active=True
        )
        .exclude(email="")
        .order_by("email")
        .distinct()
    )
    chosen = dict(AlertLanguage.objects.filter(user__in=users).values_list("user_id", "language"))
    return [(user.email, chosen.get(user.pk, Language.ZH)) for user in users]


def _send_email(
    target: AlertSettings, deliveries: list[AlertDelivery], digest: bool, now: dt.datetime
) -> None:
    if not settings.EMAIL_HOST:
        raise DeliveryError("CUSTOS_SMTP_HOST is not set: the server cannot send e-mail")
    people = recipients(target)
    if not people:
        raise DeliveryError("no administrator of the unit has an e-mail address")
    alerts = [delivery.alert for delivery in deliveries]
    today = timezone.localdate(now)
    messages = []
    for address, language in people:
        with translation.override(language):
            subject, body = texts.email_text(target.unit.path, alerts, digest, today)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address]))
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages(messages)
    except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
        raise DeliveryError(f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {exc}") from exc


# --- webhook -------------------------------------------------------------------------------


def _send_webhook(
    target: AlertSettings, deliveries: list[AlertDelivery], digest: bool, now: dt.datetime
) -> None:
    document = {
        "source": "custos",
        "unit": target.unit.path,
        "digest": digest,
        "sent_at": now.isoformat(),
        "alerts": [texts.webhook_item(delivery.alert) for delivery in deliveries],
    }
    try:
        response = httpx.post(
            target.webhook_url,
            json=document,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            headers={"User-Agent": f"custos-server/{__version__}"},
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        # The page shows the error to every reader of the unit's settings: not the URL's secret.
        error = webhook_origin.without_url(str(exc), target.webhook_url)
        raise DeliveryError(f"webhook: {type(exc).__name__}: {error}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook answered HTTP {response.status_code}")


def run_quietly() -> None:
    """For the sweeper thread: one run, errors logged, never raised into the sweep."""
    try:
        summary = run()
    except Exception:
        logger.exception("the alert run failed")
        return
    if summary.sent or summary.failed:
        logger.info("alerts: %d sent, %d failed", summary.sent, summary.failed)

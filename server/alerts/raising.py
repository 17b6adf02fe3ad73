"""Raising alerts: from the report_ingested signal (new serious violations, and serious
rules that can no longer be checked), after the silent-host sweep (hosts gone silent), and
from the periodic run (overdue notices).

A rule that goes to `error` (its facts could not be read: the process list, the journal, the
registry) is not a violation, but it is no pass either: a user who breaks a source must not
make a critical check go quiet. So it is an alert of its own kind, "could not be checked".

Raising only writes rows (Alert, and an AlertDelivery per channel of each unit on the way up
that has alerts on); sending is `server.alerts.delivery`, outside any request or ingest
transaction, so a slow mail server never holds up an agent's report.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from agent.i18n import LocalText
from agent.problem_text import what_is_wrong
from server.accounts.models import Unit
from server.alerts.models import Alert, AlertDelivery, AlertSettings, Channel, Kind
from server.fleet.models import FindingChange, Host, HostStatus, LatestFinding, Report
from server.rectification.models import NOT_CLOSED, Rectification

logger = logging.getLogger("server.alerts")

SERIOUS = ("high", "critical")
FAIL = "fail"
ERROR = "error"
# Hosts that went silent longer ago than this are not announced (e.g. on the first run after
# alerts were switched on): the overview lists them; an alert is for news.
SILENT_NEWS_WINDOW = dt.timedelta(days=7)


def _targets(unit: Unit) -> list[AlertSettings]:
    """Settings with alerts on, of `unit` and every unit above it."""
    return [
        target
        for target in AlertSettings.objects.filter(unit__path__in=unit.ancestor_paths())
        if target.active
    ]


def raise_alert(unit: Unit, key: str, now: dt.datetime, **fields: Any) -> Alert | None:
    """The new alert, or None when this event was raised before (`key`)."""
    if Alert.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(key=key, unit=unit, created_at=now, **fields)
            deliveries = [
                AlertDelivery(alert=alert, target=target, channel=channel, next_attempt_at=now)
                for target in _targets(unit)
                for channel, on in (
                    (Channel.EMAIL, target.email_enabled),
                    (Channel.WEBHOOK, bool(target.webhook_url)),
                )
                if on
            ]
            AlertDelivery.objects.bulk_create(deliveries)
    except IntegrityError:  # raised at the same moment by another process
        return None
    return alert


def on_report_ingested(
    sender: object, host: Host, report: Report, changes: list[FindingChange], **kwargs: Any
) -> None:
    """A rule of high or critical severity that starts failing, or that can no longer be
    checked, is an alert."""
    news = {
        c.rule: c for c in changes if c.new_status in (FAIL, ERROR) and c.old_status != c.new_status
    }
    if not news:
        return
    findings = LatestFinding.objects.filter(host=host, rule__in=list(news), severity__in=SERIOUS)
    for finding in findings:
        change = news[finding.rule]
        kind = Kind.VIOLATION if change.new_status == FAIL else Kind.UNCHECKED
        data: dict[str, Any] = {"category": finding.category, "report_seq": report.seq}
        if kind == Kind.VIOLATION:
            problem = what_is_wrong(
                finding.category, LocalText(finding.title_zh, finding.title_en), finding.evidence
            )
            data["problem"] = {"zh": problem.zh, "en": problem.en}
        else:
            evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
            data["cause"] = str(evidence.get("cause", ""))[:32]
        raise_alert(
            host.unit,
            f"{kind.value}:{host.pk}:{finding.rule}:{change.pk or report.pk}",
            report.received_at,
            kind=kind,
            host=host,
            rule=finding.rule,
            severity=finding.severity,
            title_zh=finding.title_zh,
            title_en=finding.title_en,
            occurred_at=change.at,
            data=data,
        )


def record_silent_hosts(now: dt.datetime) -> int:
    """An alert for each host silent since recently that has none for this silence yet."""
    announced = Alert.objects.filter(
        kind=Kind.SILENT, host=OuterRef("pk"), occurred_at=OuterRef("silent_since")
    )
    hosts = (
        Host.objects.filter(
            status=HostStatus.SILENT,
            silent_since__isnull=False,
            silent_since__gte=now - SILENT_NEWS_WINDOW,
        )
        .exclude(Exists(announced))
        .select_related("unit")
        .order_by("id")
    )
    raised = 0
    for host in hosts.iterator(chunk_size=500):
        if host.silent_since is None:  # filtered out above; keeps the type checker informed
            continue
        alert = raise_alert(
            host.unit,
            f"silent:{host.pk}:{host.silent_since.isoformat()}",
            now,
            kind=Kind.SILENT,
            host=host,
            occurred_at=host.silent_since,
            data={"last_seen": host.last_seen.isoformat() if host.last_seen else None},
        )
        raised += alert is not None
    return raised


def record_overdue(now: dt.datetime) -> int:
    """An alert for each notice past its deadline and not closed, once per notice."""
    today = timezone.localdate(now)
    raised = 0
    announced = Alert.objects.filter(kind=Kind.OVERDUE, rectification=OuterRef("pk"))
    overdue = (
        Rectification.objects.filter(status__in=NOT_CLOSED, deadline__lt=today)
        .exclude(Exists(announced))
        .select_related("host", "host__unit")
        .order_by("id")
    )
    for notice in overdue.iterator(chunk_size=500):
        problem = what_is_wrong(
            notice.category, LocalText(notice.title_zh, notice.title_en), notice.evidence
        )
        alert = raise_alert(
            notice.host.unit,
            f"overdue:{notice.pk}",
            now,
            kind=Kind.OVERDUE,
            host=notice.host,
            rectification=notice,
            rule=notice.rule,
            severity=notice.severity,
            title_zh=notice.title_zh,
            title_en=notice.title_en,
            occurred_at=now,
            data={
                "deadline": notice.deadline.isoformat(),
                "responsible_person": notice.responsible_person,
                "rectification": notice.pk,
                "problem": {"zh": problem.zh, "en": problem.en},
            },
        )
        raised += alert is not None
    return raised


def on_hosts_silenced(sender: object, now: dt.datetime, **kwargs: Any) -> None:
    """Receiver of `server.fleet.silence.hosts_silenced`: announce the newly silent hosts."""
    record_silent_hosts(now)

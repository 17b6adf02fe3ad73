"""What an alert says, in the reader's language (zh-hans unless they chose English).

E-mail is rendered per recipient inside `translation.override`, so each person reads their
language; webhooks get both languages side by side, since a webhook has no reader to ask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from agent import glossary
from server.alerts.models import Alert, Kind
from server.lib.local_time import MINUTE, local_text
from server.lib.reader_language import reader_lang

MAX_LINES_PER_MESSAGE = 100
LANGUAGES = ("zh-hans", "en")


def _local(moment: dt.datetime | None) -> str:
    return local_text(moment, MINUTE)


def _problem(alert: Alert) -> str:
    return alert.problem_zh if reader_lang() == "zh" else alert.problem_en


def _host(alert: Alert) -> str:
    if alert.host is None:
        return "—"
    name = alert.host.hostname or alert.host.host_id
    number = alert.host.machine_number
    return f"{name} ({number})" if number else name


def link(alert: Alert) -> str | None:
    """Where the alert is seen on the dashboard (its notice, else its host), when the
    server knows its public address (CUSTOS_PUBLIC_URL)."""
    base = settings.CUSTOS_PUBLIC_URL
    if not base:
        return None
    if alert.rectification_id is not None:
        return base + reverse("rectification:detail", args=[alert.rectification_id])
    if alert.host is not None:
        return base + reverse("dashboard:host", args=[alert.host.host_id])
    return None


def alert_line(alert: Alert) -> str:
    """One line about one alert, in the active language."""
    values: dict[str, Any] = {
        "unit": alert.unit.path,
        "host": _host(alert),
        "title": _problem(alert),
        "severity": glossary.term(glossary.SEVERITIES, alert.severity, reader_lang()),
        "rule": alert.rule,
        "when": _local(alert.occurred_at),
    }
    if alert.kind == Kind.VIOLATION:
        return (
            _(
                "%(unit)s · %(host)s: new violation [%(severity)s] %(title)s "
                "(rule %(rule)s, %(when)s)"
            )
            % values
        )
    if alert.kind == Kind.UNCHECKED:
        cause = alert.data.get("cause") or "failed"
        values["cause"] = glossary.term(glossary.CAUSES, cause, reader_lang())
        return (
            _(
                "%(unit)s · %(host)s: [%(severity)s] %(title)s could not be checked: "
                "%(cause)s (rule %(rule)s, %(when)s)"
            )
            % values
        )
    if alert.kind == Kind.SILENT:
        values["last_seen"] = _local(alert.host.last_seen if alert.host else None)
        return _("%(unit)s · %(host)s: silent since %(when)s, last report %(last_seen)s") % values
    values["deadline"] = alert.data.get("deadline", "")
    values["person"] = alert.data.get("responsible_person", "")
    values["number"] = alert.data.get("rectification", "")
    return (
        _(
            "%(unit)s · %(host)s: rectification #%(number)s (%(title)s) was due %(deadline)s "
            "and is not closed; person responsible: %(person)s"
        )
        % values
    )


def email_text(
    unit_path: str, alerts: Sequence[Alert], digest: bool, today: dt.date
) -> tuple[str, str]:
    """(subject, body) in the active language."""
    count = len(alerts)
    if digest:
        subject = _("[Custos] %(unit)s: daily digest of %(date)s, %(count)d alert(s)") % {
            "unit": unit_path,
            "date": today.isoformat(),
            "count": count,
        }
        intro = _("Alerts for %(unit)s and the units below it since the last digest:") % {
            "unit": unit_path
        }
    else:
        subject = _("[Custos] %(unit)s: %(count)d new alert(s)") % {
            "unit": unit_path,
            "count": count,
        }
        intro = _("New alerts for %(unit)s and the units below it:") % {"unit": unit_path}
    lines = [intro, ""]
    for alert in alerts[:MAX_LINES_PER_MESSAGE]:
        lines.append(f"- {alert_line(alert)}")
        url = link(alert)
        if url:
            lines.append(f"  {url}")
    if count > MAX_LINES_PER_MESSAGE:
        lines.append(
            _("… and %(more)d more: see the dashboard.") % {"more": count - MAX_LINES_PER_MESSAGE}
        )
    lines += [
        "",
        _(
            "You receive this as an administrator of %(unit)s. The unit's alert settings are on "
            "the dashboard's Alerts page."
        )
        % {"unit": unit_path},
    ]
    return subject, "\n".join(lines) + "\n"


def webhook_item(alert: Alert) -> dict[str, Any]:
    """One alert in the webhook document: facts, plus the text in both languages."""
    text = {}
    for language in LANGUAGES:
        with translation.override(language):
            text["zh" if language.startswith("zh") else "en"] = alert_line(alert)
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "unit": alert.unit.path,
        "host_id": alert.host.host_id if alert.host else None,
        "hostname": alert.host.hostname if alert.host else None,
        "machine_number": alert.host.machine_number if alert.host else None,
        "rule": alert.rule or None,
        "severity": alert.severity or None,
        "title": {"zh": alert.title_zh, "en": alert.title_en},
        "problem": {"zh": alert.problem_zh, "en": alert.problem_en},
        "text": text,
        "occurred_at": alert.occurred_at.isoformat(),
        "url": link(alert),
        "data": alert.data,
    }

"""Issuing and closing notices: what an admin does, with the checks and the audit entry.

The views look the host or notice up through the scope helper and check the admin role
first; these functions hold what must be true whoever calls them, and raise AdminError with
a message for the form otherwise.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from server.accounts import audit
from server.errors import AdminError
from server.fleet.models import Host, LatestFinding
from server.rectification.models import (
    NOT_CLOSED,
    EventKind,
    Rectification,
    RectificationEvent,
    Status,
)

FAILING = "fail"
UNCHECKED = "error"
MAX_REMARK = 2000
MAX_OVERRIDE_REASON = 1000


def failing_finding(host: Host, rule: str) -> LatestFinding | None:
    return LatestFinding.objects.filter(host=host, rule=rule, status=FAILING).first()


def open_notice(host: Host, rule: str) -> Rectification | None:
    return Rectification.objects.filter(host=host, rule=rule, status__in=NOT_CLOSED).first()


def issue(
    host: Host,
    rule: str,
    responsible_person: str,
    deadline: dt.date,
    remark: str,
    user: User,
    actor: str,
    now: dt.datetime,
) -> Rectification:
    """A new open notice for a failing rule.

    1. The rule must be failing now (the form may have been loaded before a passing report).
    2. At most one notice per host and rule is not closed (also a database constraint, which
       settles two admins issuing at the same moment).
    3. The finding is copied into the notice, then history and audit entries are written in
       the same transaction.
    """
    finding = failing_finding(host, rule)
    if finding is None:
        raise AdminError(_("This rule does not fail on this host (any more)."))
    if not responsible_person.strip():
        raise AdminError(_("Name the person responsible."))
    if deadline < timezone.localdate(now):
        raise AdminError(_("The deadline lies in the past."))
    if open_notice(host, rule) is not None:
        raise AdminError(_("A notice for this problem is already open."))
    try:
        with transaction.atomic():
            notice = Rectification.objects.create(
                host=host,
                rule=rule,
                title_zh=finding.title_zh,
                title_en=finding.title_en,
                message_zh=finding.message_zh,
                message_en=finding.message_en,
                remedy_zh=finding.remedy_zh,
                remedy_en=finding.remedy_en,
                severity=finding.severity,
                category=finding.category,
                evidence=finding.evidence,
                found_at=finding.since,
                responsible_person=responsible_person.strip()[:255],
                deadline=deadline,
                remark=remark.strip()[:MAX_REMARK],
                status=Status.OPEN,
                issued_by=user,
                issued_at=now,
            )
            RectificationEvent.objects.create(
                rectification=notice, at=now, kind=EventKind.ISSUED, actor=actor
            )
            audit.record(
                actor,
                "rectification.issue",
                f"rectification:{notice.pk}",
                {
                    "host": host.host_id,
                    "unit": host.unit.path,
                    "rule": rule,
                    "responsible_person": notice.responsible_person,
                    "deadline": deadline.isoformat(),
                },
                at=now,
            )
    except IntegrityError:
        raise AdminError(_("A notice for this problem is already open.")) from None
    return notice


def rechecked_now(notice: Rectification) -> bool:
    """Re-checked, and the host's latest finding for the rule still neither fails nor could
    not be checked. Ingest reopens a notice when either happens; this also holds for notices
    re-checked before it did so for rules that could not be checked."""
    if notice.status != Status.RECHECKED:
        return False
    latest = LatestFinding.objects.filter(
        host=notice.host_id, rule=notice.rule, status__in=(FAILING, UNCHECKED)
    )
    return not latest.exists()


def close(
    notice: Rectification, override_reason: str, user: User, actor: str, now: dt.datetime
) -> Rectification:
    """销号: a re-checked notice is closed; one that is open, or whose rule fails or could not
    be checked in the latest report, only with a reason for the override."""
    reason = override_reason.strip()[:MAX_OVERRIDE_REASON]
    if notice.status == Status.CLOSED:
        raise AdminError(_("This notice is closed already."))
    rechecked = rechecked_now(notice)
    if not rechecked and not reason:
        raise AdminError(
            _(
                "No report has shown this rule passing since the notice was issued. "
                "To close it anyway, give the reason."
            )
        )
    kind = EventKind.CLOSED if rechecked else EventKind.CLOSED_OVERRIDE
    with transaction.atomic():
        notice.status = Status.CLOSED
        notice.closed_by, notice.closed_at = user, now
        notice.close_override_reason = reason if kind == EventKind.CLOSED_OVERRIDE else ""
        notice.save(update_fields=["status", "closed_by", "closed_at", "close_override_reason"])
        RectificationEvent.objects.create(
            rectification=notice, at=now, kind=kind, actor=actor, note=notice.close_override_reason
        )
        details = {"host": notice.host.host_id, "unit": notice.host.unit.path, "rule": notice.rule}
        if kind == EventKind.CLOSED_OVERRIDE:
            details["override_reason"] = reason
        audit.record(actor, "rectification.close", f"rectification:{notice.pk}", details, at=now)
    return notice

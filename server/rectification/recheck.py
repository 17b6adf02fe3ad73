"""The automatic re-check (复查): a report showing the rule passing again moves its notice on.

Connected to `server.fleet.signals.report_ingested`, so it runs inside the ingest
transaction: the notice changes in the same commit as the findings that justify it, and a
failure here rolls the report back for the agent to send again (hence nothing here may fail on
ordinary data). Only the report's FindingChange rows are read: a rule that passes after a
notice was issued for it failing is necessarily a change, so reports that change nothing cost
one short query at most.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from server.accounts import audit
from server.fleet.models import FindingChange, Host, Report
from server.rectification.models import (
    NOT_CLOSED,
    EventKind,
    Rectification,
    RectificationEvent,
    Status,
)

PASSING = "pass"
FAILING = "fail"


def on_report_ingested(
    sender: object, host: Host, report: Report, changes: list[FindingChange], **kwargs: Any
) -> None:
    outcome = {c.rule: c.new_status for c in changes if c.new_status in (PASSING, FAILING)}
    if not outcome:
        return
    notices = Rectification.objects.filter(
        host=host, status__in=NOT_CLOSED, rule__in=list(outcome)
    ).order_by("id")
    for notice in notices:
        status = outcome[notice.rule]
        if status == PASSING and notice.status == Status.OPEN:
            _mark_rechecked(notice, host, report)
        elif status == FAILING and notice.status == Status.RECHECKED:
            _reopen(notice, host, report)


def _mark_rechecked(notice: Rectification, host: Host, report: Report) -> None:
    """1. status rechecked, with the report that showed it; 2. history; 3. audit log."""
    actor = f"host:{host.host_id}"
    with transaction.atomic():
        notice.status = Status.RECHECKED
        notice.rechecked_at = report.received_at
        notice.rechecked_report = report
        notice.save(update_fields=["status", "rechecked_at", "rechecked_report"])
        RectificationEvent.objects.create(
            rectification=notice,
            at=report.received_at,
            kind=EventKind.RECHECKED,
            actor=actor,
            report=report,
        )
        audit.record(
            actor,
            "rectification.recheck",
            f"rectification:{notice.pk}",
            {"rule": notice.rule, "report_seq": report.seq, "unit": host.unit.path},
            at=report.received_at,
        )


def _reopen(notice: Rectification, host: Host, report: Report) -> None:
    """The rule fails again before the notice was closed: it is open again, not fixed."""
    actor = f"host:{host.host_id}"
    with transaction.atomic():
        notice.status = Status.OPEN
        notice.save(update_fields=["status"])
        RectificationEvent.objects.create(
            rectification=notice,
            at=report.received_at,
            kind=EventKind.FAILED_AGAIN,
            actor=actor,
            report=report,
        )
        audit.record(
            actor,
            "rectification.reopen",
            f"rectification:{notice.pk}",
            {"rule": notice.rule, "report_seq": report.seq, "unit": host.unit.path},
            at=report.received_at,
        )

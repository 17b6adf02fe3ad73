"""The automatic re-check (复查): a report showing the rule passing again moves its notice on.

A report in which the rule could not be checked (`error`) is no re-check: a notice that was
re-checked goes back to open, so it cannot be closed (销号) as fixed on evidence that the
latest report no longer gives; an open one stays open.

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
UNCHECKED = "error"


def on_report_ingested(
    sender: object, host: Host, report: Report, changes: list[FindingChange], **kwargs: Any
) -> None:
    outcome = {
        c.rule: c.new_status for c in changes if c.new_status in (PASSING, FAILING, UNCHECKED)
    }
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
            _reopen(notice, host, report, EventKind.FAILED_AGAIN)
        elif status == UNCHECKED and notice.status == Status.RECHECKED:
            _reopen(notice, host, report, EventKind.UNCHECKED)


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


def _reopen(notice: Rectification, host: Host, report: Report, kind: EventKind) -> None:
    """The rule fails again, or can no longer be checked, before the notice was closed: it
    is open again, not fixed."""
    actor = f"host:{host.host_id}"
    with transaction.atomic():
        notice.status = Status.OPEN
        notice.save(update_fields=["status"])
        RectificationEvent.objects.create(
            rectification=notice,
            at=report.received_at,
            kind=kind,
            actor=actor,
            report=report,
        )
        audit.record(
            actor,
            "rectification.reopen",
            f"rectification:{notice.pk}",
            {
                "rule": notice.rule,
                "report_seq": report.seq,
                "unit": host.unit.path,
                "status": "fail" if kind == EventKind.FAILED_AGAIN else "error",
            },
            at=report.received_at,
        )

"""Keeping each host's latest findings current from its full reports, with their history.

Each full report names every rule of the policy, so after it the host's LatestFinding rows are
exactly its findings: new rules are inserted, known ones updated, rules no longer named are
deleted. Every status change (including appearing and going away) is one FindingChange row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from server.fleet.models import FindingChange, Host, LatestFinding, Report
from server.fleet.state import is_required_software, required_software_state

_UPDATED_FIELDS = (
    "category",
    "severity",
    "status",
    "title_zh",
    "title_en",
    "message_zh",
    "message_en",
    "remedy_zh",
    "remedy_en",
    "evidence",
    "required",
    "installed",
    "running",
    "last_seen",
    "since",
    "report",
)


def _values(finding: dict[str, Any]) -> dict[str, Any]:
    remedy = finding.get("remedy") or {"zh": "", "en": ""}
    installed, running = required_software_state(finding["category"], finding["evidence"])
    return {
        "category": finding["category"],
        "severity": finding["severity"],
        "status": finding["status"],
        "title_zh": finding["title"]["zh"],
        "title_en": finding["title"]["en"],
        "message_zh": finding["message"]["zh"],
        "message_en": finding["message"]["en"],
        "remedy_zh": remedy["zh"],
        "remedy_en": remedy["en"],
        "evidence": finding["evidence"],
        "required": is_required_software(finding["category"], finding["evidence"]),
        "installed": installed,
        "running": running,
    }


def apply_findings(
    host: Host, findings: list[dict[str, Any]], report: Report, at: dt.datetime
) -> list[FindingChange]:
    """Upsert the findings of one full report (validated payload, unique rules)."""
    existing = {row.rule: row for row in LatestFinding.objects.filter(host=host)}
    new_rows: list[LatestFinding] = []
    updated_rows: list[LatestFinding] = []
    changes: list[FindingChange] = []
    for finding in findings:
        rule, values = finding["rule"], _values(finding)
        row = existing.pop(rule, None)
        if row is None:
            new_rows.append(
                LatestFinding(
                    host=host,
                    rule=rule,
                    first_seen=at,
                    last_seen=at,
                    since=at,
                    report=report,
                    **values,
                )
            )
            changes.append(
                FindingChange(
                    host=host,
                    rule=rule,
                    old_status="",
                    new_status=values["status"],
                    at=at,
                    report=report,
                )
            )
            continue
        if row.status != values["status"]:
            changes.append(
                FindingChange(
                    host=host,
                    rule=rule,
                    old_status=row.status,
                    new_status=values["status"],
                    at=at,
                    report=report,
                )
            )
            row.since = at
        for name, value in values.items():
            setattr(row, name, value)
        row.last_seen, row.report = at, report
        updated_rows.append(row)
    for rule, row in existing.items():  # rules the policy no longer has
        changes.append(
            FindingChange(
                host=host, rule=rule, old_status=row.status, new_status="", at=at, report=report
            )
        )
    if existing:
        LatestFinding.objects.filter(host=host, rule__in=list(existing)).delete()
    LatestFinding.objects.bulk_create(new_rows, batch_size=200)
    LatestFinding.objects.bulk_update(updated_rows, _UPDATED_FIELDS, batch_size=200)
    FindingChange.objects.bulk_create(changes, batch_size=200)
    return changes

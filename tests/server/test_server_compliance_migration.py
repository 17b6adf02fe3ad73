"""Upgrading a database: fleet 0004 recomputes each host's state from its latest findings.

Before it, a host whose only problems were rules that could not be checked was stored as
compliant. The migration runs on rows written in the old schema (historical models of fleet
0003) and must leave them as ingest would now: unchecked, noncompliant when something also
fails, compliant only when everything passed, unknown without a full report; and mark the
required-software rows, including those whose software list could not be read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

BEFORE = [("fleet", "0003_policy_owner")]
AFTER = [("fleet", "0004_compliance_state")]
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def old_schema() -> Iterator[Any]:
    """The apps as of fleet 0002; the database is brought back to the latest schema after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _host(apps: Any, unit: Any, name: str, findings: list[tuple[str, str, dict[str, Any]]]) -> Any:
    Host = apps.get_model("fleet", "Host")
    Report = apps.get_model("fleet", "Report")
    LatestFinding = apps.get_model("fleet", "LatestFinding")
    host = Host.objects.create(
        host_id=f"h_{name:0>32}",
        unit=unit,
        public_key=b"k" * 32,
        hostname=name,
        first_seen=NOW,
        last_full_state_hash="a" * 64 if findings else "",
        compliant=not any(status == "fail" for _, status, _ in findings) if findings else None,
    )
    if not findings:
        return host
    report = Report.objects.create(
        host=host,
        seq=1,
        received_at=NOW,
        sent_at=NOW,
        kind="full",
        envelope=b"{}",
        trigger="schedule",
        state_hash="a" * 64,
        policy_id="p",
        policy_version="1",
        policy_sha256="b" * 64,
        compliant=True,
        passed=0,
        failed=0,
        errors=0,
        not_applicable=0,
    )
    for rule, status, evidence in findings:
        LatestFinding.objects.create(
            host=host,
            rule=rule,
            category="software",
            severity="critical",
            status=status,
            title_zh=rule,
            title_en=rule,
            message_zh="",
            message_en="",
            evidence=evidence,
            installed=evidence.get("installed"),
            running=evidence.get("running"),
            first_seen=NOW,
            last_seen=NOW,
            since=NOW,
            report=report,
        )
    return host


def test_the_upgrade_recomputes_compliance_and_marks_required_software_rows(
    old_schema: Any,
) -> None:
    apps = old_schema
    Unit = apps.get_model("accounts", "Unit")
    unit = Unit.objects.create(name="网信办", path="网信办")
    running = {"installed": True, "running": True}
    unknown = {"installed": None, "running": None, "collector": "software", "cause": "failed"}
    _host(apps, unit, "clean", [("vrv", "pass", running), ("no-proxy", "pass", {})])
    _host(apps, unit, "unchecked", [("vrv", "error", unknown), ("no-proxy", "pass", {})])
    _host(apps, unit, "both", [("vrv", "fail", {"installed": False}), ("tq", "error", unknown)])
    _host(apps, unit, "never", [])

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps
    Host = new.get_model("fleet", "Host")
    LatestFinding = new.get_model("fleet", "LatestFinding")
    states = {host.hostname: (host.compliance, host.unchecked_count) for host in Host.objects.all()}
    assert states == {
        "clean": ("compliant", 0),
        "unchecked": ("unchecked", 1),
        "both": ("noncompliant", 1),
        "never": (None, 0),
    }
    required = set(
        LatestFinding.objects.filter(required=True).values_list("host__hostname", "rule")
    )
    assert required == {("clean", "vrv"), ("unchecked", "vrv"), ("both", "vrv"), ("both", "tq")}

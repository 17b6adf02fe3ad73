"""Violations: failing findings in scope grouped by rule (hosts, first and last seen,
severity), filtered by unit, category and severity, and expandable to the rule's hosts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.fleet.models import Host, HostStatus
from tests.dashboard.seed import Machine, client_for, links_to, page_text
from tests.server.agents import utc_now

pytestmark = pytest.mark.server


def machine(number: int, **changes: Any) -> Machine:
    values: dict[str, Any] = {
        "hostname": f"pc-{number:04d}",
        "ip": f"10.11.0.{number}",
        "mac": f"52:54:00:00:00:{number:02x}",
        **changes,
    }
    return Machine(**values)


@pytest.fixture
def failing(world: Any, fleet: Any) -> dict[str, Any]:
    """VRV stopped on three PCs of 海淀区 (one in each office, one fixed later), a USB stick on
    one, and the same problem on a PC of 朝阳区 (out of scope)."""
    now = utc_now()
    early = fleet.enroll(world.office, machine(1))
    fleet.report(early, machine(1, vrv_running=False), at=now - dt.timedelta(days=3))
    fleet.report(early, at=now - dt.timedelta(days=1))
    later = fleet.machines(world.school, machine(2, vrv_running=False, unregistered_stick=True))
    fixed = fleet.machines(world.office, machine(3, vrv_running=False))
    fleet.report(fixed[0], machine(3))
    other = fleet.machines(world.other_office, machine(4, vrv_running=False))
    return {"early": early, "later": later[0], "other": other[0], "now": now}


def by_rule(response: Any) -> dict[str, Any]:
    return {violation.rule: violation for violation in response.context["violations"]}


def test_failing_findings_are_grouped_by_rule_with_host_counts_and_times(
    world: Any, failing: Any
) -> None:
    violations = by_rule(client_for(world.admin).get("/violations/"))

    assert set(violations) == {
        "terminal-registration-client",
        "no-unregistered-storage",
        "no-unregistered-storage-history",
    }
    vrv = violations["terminal-registration-client"]
    assert (vrv.hosts, vrv.severity, vrv.category) == (2, "critical", "software")
    assert vrv.first_seen.date() == (failing["now"] - dt.timedelta(days=3)).date()
    assert vrv.last_seen > vrv.first_seen
    assert violations["no-unregistered-storage-history"].severity == "high"


def test_the_most_severe_and_widespread_rules_come_first(world: Any, failing: Any) -> None:
    order = [v.rule for v in client_for(world.admin).get("/violations/").context["violations"]]

    assert order == [
        "terminal-registration-client",
        "no-unregistered-storage",
        "no-unregistered-storage-history",
    ]


def test_filters_narrow_by_unit_category_and_severity(world: Any, failing: Any) -> None:
    browser = client_for(world.admin)

    assert set(by_rule(browser.get(f"/violations/?unit={world.office.pk}"))) == {
        "terminal-registration-client"
    }
    assert set(by_rule(browser.get("/violations/?category=media"))) == {
        "no-unregistered-storage",
        "no-unregistered-storage-history",
    }
    assert set(by_rule(browser.get("/violations/?severity=high"))) == {
        "no-unregistered-storage-history"
    }
    assert browser.get(f"/violations/?unit={world.other_office.pk}").status_code == 404


def test_each_rule_expands_to_its_hosts_through_htmx(world: Any, failing: Any) -> None:
    browser = client_for(world.admin)
    page = browser.get("/violations/")
    content = page.content.decode()

    assert 'hx-get="/violations/?rule=terminal-registration-client"' in content
    assert 'hx-trigger="toggle once"' in content
    fragment = browser.get("/violations/?rule=terminal-registration-client", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert {f.host.hostname for f in fragment.context["rows"]} == {"pc-0001", "pc-0002"}


def test_without_javascript_a_rule_links_to_the_full_list_of_its_hosts(
    world: Any, failing: Any
) -> None:
    browser = client_for(world.admin)
    links = links_to(browser.get("/violations/?category=software").content, "/violations/")
    target = next(href for href, text in links if "rule=terminal-registration-client" in href)

    listed = browser.get(target)

    assert listed.status_code == 200
    assert [f.host.hostname for f in listed.context["page"]] == ["pc-0001", "pc-0002"]
    text = page_text(listed.content)
    assert "not running" in text and "Issue rectification" in text


def test_an_auditor_sees_the_hosts_but_no_rectification_links(world: Any, failing: Any) -> None:
    listed = client_for(world.auditor).get("/violations/?rule=terminal-registration-client")

    assert len(listed.context["page"]) == 2
    assert not links_to(listed.content, "/rectifications/new/")


def test_other_counties_and_revoked_hosts_are_not_counted(world: Any, failing: Any) -> None:
    Host.objects.filter(hostname="pc-0002").update(status=HostStatus.REVOKED)

    violations = by_rule(client_for(world.admin).get("/violations/"))
    assert violations["terminal-registration-client"].hosts == 1
    assert "no-unregistered-storage" not in violations
    other = by_rule(client_for(world.other_admin).get("/violations/"))
    assert other["terminal-registration-client"].hosts == 1


def test_no_violations_says_so(world: Any) -> None:
    response = client_for(world.admin).get("/violations/")

    assert response.context["violations"] == []
    assert "No failing finding here, and no rule that could not be checked." in page_text(
        response.content
    )

"""The overview: every figure right, every figure a link to the list it counts, scoped to
the user's units, and computed from denormalised state and the rollup, never from reports."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from server.dashboard import rollup
from server.dashboard.models import UnitDayStat
from server.fleet.models import Host, HostStatus, LatestFinding, Report
from server.fleet.signals import report_ingested
from server.rectification.models import Rectification, Status
from tests.dashboard.seed import PASSWORD, Machine, client_for, links_to, page_text, parse
from tests.server.agents import utc_now

pytestmark = pytest.mark.server

CLEAN = Machine()


def machine(number: int, **changes: Any) -> Machine:
    return Machine(
        hostname=f"pc-{number:04d}",
        ip=f"10.11.0.{number}",
        mac=f"52:54:00:00:00:{number:02x}",
        machine_number=f"BJ-2026-{number:04d}",
        **changes,
    )


@pytest.fixture
def county_fleet(world: Any, fleet: Any) -> dict[str, Any]:
    """网信办: 2 clean PCs, 1 with VRV stopped and a stray USB stick, 1 enrolled that never
    reported; 教育局: 1 PC without VRV and with Wi-Fi; 朝阳区 (out of scope): 1 bad PC."""
    office = fleet.machines(
        world.office,
        machine(1),
        machine(2),
        machine(3, vrv_running=False, unregistered_stick=True),
    )
    never = fleet.enroll(world.office, machine(4))
    school = fleet.machines(world.school, machine(5, vrv_installed=False, wifi_card=True))
    other = fleet.machines(world.other_office, machine(6, remote_control="TeamViewer"))
    return {"office": office, "never": never, "school": school, "other": other}


def test_the_overview_counts_compliance_over_every_host_in_service(
    world: Any, county_fleet: Any
) -> None:
    response = client_for(world.admin).get("/")

    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.unit == world.county
    assert (figures.counts.hosts, figures.counts.compliant, figures.counts.noncompliant) == (
        5,
        2,
        2,
    )
    assert figures.counts.unknown == 1
    assert figures.counts.rate == pytest.approx(2 / 5)
    assert "40.0%" in page_text(response.content)


def test_every_number_on_the_overview_opens_the_hosts_list_it_counts(
    world: Any, county_fleet: Any
) -> None:
    browser = client_for(world.admin)
    overview = browser.get("/")
    links = [(href, text) for href, text in links_to(overview.content, "/hosts/")]

    assert len(links) > 20
    for href, text in links:
        if not text.replace(".", "").replace("%", "").isdigit():
            continue
        listed = browser.get(href)
        assert listed.status_code == 200, href
        total = listed.context["page"].paginator.count
        if text.endswith("%"):
            continue  # a rate links to the hosts it counts as compliant; checked below
        assert total == int(text), f"{href} lists {total}, the overview says {text}"


def test_rates_link_to_the_hosts_they_count_as_compliant(world: Any, county_fleet: Any) -> None:
    browser = client_for(world.admin)
    overview = browser.get("/")
    rate_links = [link for link in links_to(overview.content, "/hosts/") if link[1] == "40.0%"]

    assert rate_links
    listed = browser.get(rate_links[0][0])
    assert {host.hostname for host in listed.context["page"]} == {"pc-0001", "pc-0002"}


def test_required_software_shows_install_and_running_rates_per_rule(
    world: Any, county_fleet: Any
) -> None:
    rules = {rate.rule: rate for rate in client_for(world.admin).get("/").context["figures"].rules}

    vrv = rules["terminal-registration-client"]
    assert (vrv.hosts, vrv.installed, vrv.running) == (4, 3, 2)
    assert vrv.installed_rate == pytest.approx(0.75)
    assert vrv.running_rate == pytest.approx(0.5)
    tool = rules["confidentiality-check-tool"]
    assert tool.installed_rate == 1.0
    assert tool.running_checked is False and tool.running_rate is None
    assert "no-remote-control" not in rules  # forbidden software is not a required rule


def test_the_running_rate_links_open_the_hosts_where_the_client_runs_or_not(
    world: Any, county_fleet: Any
) -> None:
    browser = client_for(world.admin)
    overview = browser.get("/")
    hrefs = [href for href, _ in links_to(overview.content, "/hosts/") if "running=no" in href]
    vrv = [href for href in hrefs if "rule=terminal-registration-client" in href]

    listed = browser.get(vrv[0])
    assert {host.hostname for host in listed.context["page"]} == {"pc-0003", "pc-0005"}


def test_violations_by_category_and_silent_hosts_are_counted(world: Any, county_fleet: Any) -> None:
    Host.objects.filter(hostname="pc-0002").update(status=HostStatus.SILENT)

    figures = client_for(world.admin).get("/").context["figures"]

    assert dict(figures.categories) == {"software": 2, "media": 1, "internet": 1, "asset": 0}
    assert figures.counts.silent == 1


def test_revoked_hosts_are_left_out_of_the_figures_and_counted_apart(
    world: Any, county_fleet: Any
) -> None:
    Host.objects.filter(hostname="pc-0003").update(status=HostStatus.REVOKED)

    figures = client_for(world.admin).get("/").context["figures"]

    assert (figures.counts.hosts, figures.counts.noncompliant, figures.revoked) == (4, 1, 1)


def test_rectification_counts_link_to_the_rectification_list(world: Any, county_fleet: Any) -> None:
    bad = county_fleet["office"][2].host
    today = timezone.localdate()
    for rule, status, deadline in (
        ("terminal-registration-client", Status.OPEN, today + dt.timedelta(days=5)),
        ("no-unregistered-storage", Status.OPEN, today - dt.timedelta(days=1)),
        ("no-unregistered-storage-history", Status.RECHECKED, today - dt.timedelta(days=2)),
        ("asset-fields-complete", Status.CLOSED, today - dt.timedelta(days=9)),
    ):
        Rectification.objects.create(
            host=bad,
            rule=rule,
            title_zh="t",
            title_en="t",
            message_zh="m",
            message_en="m",
            severity="high",
            category="software",
            responsible_person="张三",
            deadline=deadline,
            status=status,
            issued_at=timezone.now(),
        )
    browser = client_for(world.admin)
    overview = browser.get("/")
    figures = overview.context["figures"].rectifications

    assert (figures.open, figures.rechecked, figures.overdue) == (2, 1, 2)
    links = set(links_to(overview.content, "/rectifications/"))
    county = world.county.pk
    assert (f"/rectifications/?unit={county}&status=open", "2") in links
    assert (f"/rectifications/?unit={county}&overdue=1", "2") in links
    assert (f"/rectifications/?unit={county}&status=rechecked", "1") in links
    listed = browser.get(f"/rectifications/?unit={county}&overdue=1")
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 2


def test_the_trend_comes_from_the_rollup_and_reaches_the_chart_through_json_script(
    world: Any, county_fleet: Any
) -> None:
    rollup.rollup_today(timezone.now())

    response = client_for(world.admin).get("/?days=90")

    scripts = parse(response.content).scripts
    data_scripts = [attrs for attrs in scripts if attrs.get("type") == "application/json"]
    assert [attrs.get("id") for attrs in data_scripts] == ["trend-data"]
    assert all(attrs.get("src") for attrs in scripts if attrs.get("type") != "application/json")
    assert response.context["figures"].days == 90
    data = response.context["trend_data"]
    assert data["days"] == [timezone.localdate().isoformat()]
    assert data["rate"] == [40.0]
    assert json.loads(json.dumps(data))["noncompliant"] == [2]


def test_without_daily_figures_the_chart_space_says_so_and_loads_no_chart_code(
    world: Any, county_fleet: Any
) -> None:
    response = client_for(world.admin).get("/")

    assert response.context["figures"].trend == []
    assert b"chart.umd.min.js" not in response.content
    assert b"chart-empty" in response.content


def test_child_units_are_ranked_by_compliance_with_their_figures(
    world: Any, county_fleet: Any
) -> None:
    children = client_for(world.admin).get("/").context["figures"].children

    assert [child.unit.name for child in children] == ["网信办", "教育局"]
    assert [child.counts.rate for child in children] == [pytest.approx(0.5), 0.0]
    assert children[0].counts.unknown == 1


def test_the_superuser_starts_at_the_top_unit_and_sees_every_county(
    world: Any, county_fleet: Any
) -> None:
    figures = client_for(world.superuser).get("/").context["figures"]

    assert figures.unit == world.province
    assert figures.counts.hosts == 6
    assert {child.unit.name for child in figures.children} == {"海淀区", "朝阳区"}


def test_an_admin_cannot_open_the_overview_of_a_county_outside_their_scope(
    world: Any, county_fleet: Any
) -> None:
    browser = client_for(world.admin)

    assert browser.get(f"/units/{world.other_county.pk}/").status_code == 404
    assert browser.get(f"/units/{world.province.pk}/").status_code == 404
    assert browser.get("/units/999999/").status_code == 404
    assert browser.get(f"/units/{world.office.pk}/").status_code == 200


def test_the_other_county_admin_sees_only_their_own_hosts(world: Any, county_fleet: Any) -> None:
    figures = client_for(world.other_admin).get("/").context["figures"]

    assert figures.unit == world.other_county
    assert (figures.counts.hosts, figures.counts.noncompliant) == (1, 1)


def test_the_auditor_reads_the_overview_of_their_county(world: Any, county_fleet: Any) -> None:
    response = client_for(world.auditor).get("/")

    assert response.status_code == 200
    assert response.context["figures"].unit == world.county


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    response = client_for(None).get(f"/units/{world.county.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_user_without_any_role_is_told_there_is_nothing_to_show(world: Any) -> None:
    nobody = User.objects.create_user("nobody", "", PASSWORD)
    response = client_for(nobody).get("/")

    assert response.status_code == 200
    assert "no role on any unit" in page_text(response.content)
    assert client_for(nobody).get(f"/units/{world.county.pk}/").status_code == 404


def test_the_overview_reads_no_report_history(world: Any, county_fleet: Any) -> None:
    rollup.rollup_today(timezone.now())
    browser = client_for(world.admin)

    with CaptureQueriesContext(connection) as queries:
        assert browser.get("/").status_code == 200

    assert not [query for query in queries if "fleet_report" in query["sql"]]
    assert len(queries) <= 20  # a fixed number: one per required rule for its title, no loops


# --- what ingest keeps up to date --------------------------------------------------------


def test_ingest_keeps_the_host_figures_current_as_a_machine_is_fixed(
    world: Any, fleet: Any
) -> None:
    (pc,) = fleet.machines(world.office, machine(7, vrv_running=False, wifi_card=True))
    host = pc.host
    assert (host.compliant, host.failed_count) == (False, 2)
    assert (host.failing_software, host.failing_internet, host.failing_media) == (True, True, False)
    assert (host.policy_id, host.policy_version) == ("intranet-office", "2026.11")
    assert set(host.addresses.values_list("kind", "value")) == {
        ("ip", "10.11.0.7"),
        ("mac", "52:54:00:00:00:07"),
        ("gateway", "10.11.0.1"),
        ("dns", "10.11.0.2"),
    }
    vrv = LatestFinding.objects.get(host=host, rule="terminal-registration-client")
    assert (vrv.installed, vrv.running) == (True, False)

    fleet.report(pc, machine(7))

    host.refresh_from_db()
    assert (host.compliant, host.failed_count, host.failing_software) == (True, 0, False)
    vrv.refresh_from_db()
    assert (vrv.installed, vrv.running) == (True, True)


def test_a_heartbeat_keeps_the_figures_of_the_last_full_report(world: Any, fleet: Any) -> None:
    (pc,) = fleet.machines(world.office, machine(8, vrv_running=False))

    ack = fleet.report(pc)

    assert ack["stored"] == "heartbeat"
    host = pc.host
    assert (host.compliant, host.failed_count) == (False, 1)


def test_report_ingested_is_sent_inside_the_ingest_transaction_with_the_changes(
    world: Any, fleet: Any
) -> None:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append({"sender": sender, **kwargs, "in_atomic": connection.in_atomic_block})

    report_ingested.connect(receiver)
    try:
        pc = fleet.enroll(world.office, machine(9))
        fleet.report(pc)
        fleet.report(pc, machine(9, vrv_running=False))
        fleet.report(pc)
    finally:
        report_ingested.disconnect(receiver)

    assert [item["report"].kind for item in received] == ["full", "full", "heartbeat"]
    assert all(
        item["sender"] is Report and item["host"].host_id == pc.agent.host_id for item in received
    )
    assert all(item["in_atomic"] for item in received)
    assert len(received[0]["changes"]) == len(LatestFinding.objects.filter(host=pc.host))
    assert [(c.rule, c.old_status, c.new_status) for c in received[1]["changes"]] == [
        ("terminal-registration-client", "pass", "fail")
    ]
    assert received[2]["changes"] == []


# --- the rollup --------------------------------------------------------------------------


def test_the_rollup_writes_subtree_figures_for_every_unit_once_a_day(
    world: Any, county_fleet: Any
) -> None:
    now = timezone.now()
    rollup.rollup_today(now)
    rollup.rollup_today(now)

    today = {row.unit_id: row for row in UnitDayStat.objects.filter(day=timezone.localdate(now))}
    assert (today[world.county.pk].hosts, today[world.county.pk].compliant) == (5, 2)
    assert (today[world.province.pk].hosts, today[world.office.pk].hosts) == (6, 4)
    assert today[world.school.pk].noncompliant == 1
    assert UnitDayStat.objects.count() == len(today)


def test_the_rollup_is_due_every_few_minutes_from_the_sweeper(world: Any) -> None:
    now = timezone.now() + dt.timedelta(days=1000)  # later than any run of other tests

    assert rollup.rollup_if_due(now) is True
    assert rollup.rollup_if_due(now + dt.timedelta(minutes=1)) is False
    assert rollup.rollup_if_due(now + rollup.ROLLUP_EVERY) is True


def test_the_sweeper_writes_todays_figures_after_marking_hosts_silent(
    world: Any, fleet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import sweeper

    monkeypatch.setattr(rollup, "_last_run", None)
    (pc,) = fleet.machines(world.office, machine(10))
    Host.objects.filter(pk=pc.host.pk).update(last_seen=timezone.now() - dt.timedelta(days=2))
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)

    sweeper.sweep_and_close()

    row = UnitDayStat.objects.get(unit=world.office, day=timezone.localdate())
    assert (row.hosts, row.silent) == (1, 1)


def test_backfill_rebuilds_past_days_from_report_history_without_touching_existing_days(
    world: Any, fleet: Any
) -> None:
    now = utc_now()
    pc = fleet.enroll(world.office, machine(11))
    Host.objects.filter(pk=pc.host.pk).update(first_seen=now - dt.timedelta(days=5))
    fleet.report(pc, machine(11, vrv_running=False), at=now - dt.timedelta(days=4))
    fleet.report(pc, machine(11), at=now - dt.timedelta(days=2))
    UnitDayStat.objects.create(
        unit=world.office,
        day=timezone.localdate(now) - dt.timedelta(days=1),
        hosts=9,
        compliant=9,
        noncompliant=0,
        silent=0,
        updated_at=now,
    )

    added = rollup.backfill(6, now)

    rows = {
        (timezone.localdate(now) - row.day).days: row
        for row in UnitDayStat.objects.filter(unit=world.office)
    }
    assert rows[6].hosts == 0 and rows[5].hosts == 1 and rows[5].compliant == 0
    assert (rows[4].noncompliant, rows[3].noncompliant, rows[2].compliant) == (1, 1, 1)
    assert rows[1].hosts == 9  # a day with figures keeps them
    assert rows[4].silent is None
    units = UnitDayStat.objects.filter(day=rows[4].day).count()
    assert added == 6 * units - 1  # six days of every unit, but the one day that had figures


def test_custos_server_rollup_writes_todays_figures(world: Any, county_fleet: Any) -> None:
    from server.cli import main

    assert main(["rollup", "--backfill", "3"]) == 0

    assert UnitDayStat.objects.filter(unit=world.county, day=timezone.localdate()).exists()
    assert UnitDayStat.objects.filter(unit=world.county).count() == 4


def test_custos_server_rollup_refuses_a_backfill_out_of_range(capsys: Any) -> None:
    from server.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["rollup", "--backfill", "100000"])

    assert exit_info.value.code == 2
    assert "at most" in capsys.readouterr().err

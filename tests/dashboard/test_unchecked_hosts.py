"""A PC whose checks could not run is not compliant, anywhere figures are shown (issue 8 §4).

The PCs report through the real agent code and API (`tests.dashboard.seed`): one is clean,
one cannot read its process list (so whether the required clients run, and whether forbidden
tools run, is unknown), one cannot read its software list either way, and one has the VRV
client missing *and* an unreadable process list. "Could not be checked" (未能检查) is a state
of its own: never compliant, not a violation either, and a failure wins over it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from server.alerts import delivery
from server.alerts.models import Alert, AlertSettings, Kind
from server.alerts.texts import alert_line
from server.dashboard import rollup
from server.dashboard.models import UnitDayStat
from server.errors import AdminError
from server.fleet.models import Host, LatestFinding
from server.rectification import actions
from server.rectification.models import EventKind, Status
from tests.dashboard.actions_receivers import Mailbox, smtp_sink
from tests.dashboard.seed import Machine, client_for, links_to, page_text
from tests.server.agents import utc_now

pytestmark = pytest.mark.server

VRV = "terminal-registration-client"  # critical; must run processes ['^vrv']


def machine(number: int, **changes: Any) -> Machine:
    return Machine(
        hostname=f"pc-{number:04d}",
        ip=f"10.11.0.{number}",
        mac=f"52:54:00:00:01:{number:02x}",
        machine_number=f"BJ-2026-{number:04d}",
        **changes,
    )


CLEAN = machine(1)
NO_PROCESSES = machine(2, process_list_readable=False)
NO_SOFTWARE = machine(3, software_list_readable=False)
MISSING_AND_NO_PROCESSES = machine(4, vrv_installed=False, process_list_readable=False)


@pytest.fixture
def office(world: Any, fleet: Any) -> dict[str, Any]:
    """The four PCs in 网信办 (海淀区)."""
    pcs = fleet.machines(world.office, CLEAN, NO_PROCESSES, NO_SOFTWARE, MISSING_AND_NO_PROCESSES)
    return {pc.machine.hostname: pc for pc in pcs}


def hostnames(response: Any) -> set[str]:
    return {host.hostname for host in response.context["page"]}


# --- the host's state ------------------------------------------------------------------------


def test_ingest_stores_could_not_be_checked_and_lets_a_failure_win(office: Any) -> None:
    states = {
        host.hostname: (host.compliance, host.compliant, host.failed_count, host.unchecked_count)
        for host in Host.objects.all()
    }
    assert states["pc-0001"] == ("compliant", True, 0, 0)
    assert states["pc-0002"][:3] == ("unchecked", False, 0)
    assert states["pc-0002"][3] > 0
    assert states["pc-0003"][:3] == ("unchecked", False, 0)
    assert states["pc-0004"][:3] == ("noncompliant", False, 1)
    assert states["pc-0004"][3] > 0


def test_the_overview_counts_unchecked_hosts_against_the_compliance_rate(
    world: Any, office: Any
) -> None:
    response = client_for(world.admin).get("/")

    counts = response.context["figures"].counts
    assert (counts.hosts, counts.compliant, counts.noncompliant, counts.unchecked) == (4, 1, 1, 2)
    assert counts.unknown == 0
    assert counts.rate == pytest.approx(0.25)
    text = page_text(response.content)
    assert "25.0%" in text
    assert "every applicable rule was checked and passed" in text
    unchecked_links = [
        (href, label)
        for href, label in links_to(response.content, "/hosts/")
        if "compliance=unchecked" in href
    ]
    assert (f"/hosts/?unit={world.county.pk}&compliance=unchecked", "2") in unchecked_links


def test_the_overview_in_chinese_names_the_state(world: Any, office: Any) -> None:
    text = page_text(client_for(world.admin, "zh-CN").get("/").content)
    assert "未能检查" in text and "未能核实" in text


def test_the_hosts_filter_lists_the_hosts_that_could_not_be_checked(
    world: Any, office: Any
) -> None:
    browser = client_for(world.admin)

    assert hostnames(browser.get("/hosts/?compliance=unchecked")) == {"pc-0002", "pc-0003"}
    assert hostnames(browser.get("/hosts/?compliance=compliant")) == {"pc-0001"}
    assert hostnames(browser.get("/hosts/?compliance=noncompliant")) == {"pc-0004"}
    listed = page_text(browser.get("/hosts/?compliance=unchecked").content)
    assert "could not be checked" in listed
    form = page_text(browser.get("/hosts/").content)
    assert "could not be checked" in form  # a choice of the compliance filter


def test_violations_count_the_hosts_where_a_rule_could_not_be_checked_apart(
    world: Any, office: Any
) -> None:
    browser = client_for(world.admin)
    response = browser.get("/violations/")

    rules = {item.rule: item for item in response.context["violations"]}
    vrv = rules[VRV]
    assert (vrv.hosts, vrv.unchecked) == (1, 2)  # pc-0004 fails; pc-0002, pc-0003 unknown
    audit = rules["terminal-audit-client"]
    assert (audit.hosts, audit.unchecked) == (0, 3)  # listed although nothing fails
    assert audit.first_seen is None
    # Named by what is known, not by its requirement as if it were met.
    assert audit.problem_en == "Could not be checked: Endpoint audit client (Qi An Xin TianQing)"
    assert audit.problem_zh == "未能检查：终端安全审计客户端（奇安信天擎）"
    assert "No host fails this rule here." in page_text(response.content)
    assert "未能检查：终端安全审计客户端" in page_text(
        client_for(world.admin, "zh-CN").get("/violations/").content
    )
    link = f"/hosts/?rule={VRV}&finding=error"
    assert (link, "2") in links_to(response.content, "/hosts/")
    assert hostnames(browser.get(link)) == {"pc-0002", "pc-0003"}


def test_required_software_rates_count_an_unreadable_source_as_not_verified(
    world: Any, office: Any
) -> None:
    browser = client_for(world.admin)
    overview = browser.get("/")
    rates = {rate.rule: rate for rate in overview.context["figures"].rules}

    vrv = rates[VRV]
    # pc-0001 installed and running; pc-0002 installed, running unknown; pc-0003 nothing
    # known; pc-0004 not installed.
    assert (vrv.hosts, vrv.installed, vrv.not_installed, vrv.unverified) == (4, 2, 1, 2)
    assert (vrv.running, vrv.not_running) == (1, 1)
    assert vrv.installed_rate == pytest.approx(0.5)
    assert vrv.running_rate == pytest.approx(0.25)
    tool = rates["confidentiality-check-tool"]  # installation only
    assert (tool.hosts, tool.installed, tool.unverified) == (4, 3, 1)
    assert tool.running_checked is False
    assert LatestFinding.objects.get(host__hostname="pc-0003", rule=VRV).installed is None
    for href, label in links_to(overview.content, "/hosts/"):
        if f"rule={VRV}" in href and label.isdigit():
            listed = browser.get(href).context["page"].paginator.count
            assert listed == int(label), href


def test_the_ranking_puts_a_unit_whose_hosts_could_not_be_checked_below_a_compliant_one(
    world: Any, fleet: Any
) -> None:
    fleet.machines(world.office, machine(11))
    fleet.machines(world.school, machine(12, process_list_readable=False))

    children = client_for(world.admin).get("/").context["figures"].children

    assert [child.unit for child in children] == [world.office, world.school]
    school = children[1].counts
    assert (school.compliant, school.unchecked, school.rate) == (0, 1, 0.0)


def test_the_daily_rollup_counts_hosts_that_could_not_be_checked(world: Any, office: Any) -> None:
    now = timezone.now()
    rollup.rollup_today(now)

    row = UnitDayStat.objects.get(unit=world.county, day=timezone.localdate(now))
    assert (row.hosts, row.compliant, row.noncompliant, row.unchecked, row.unknown) == (
        4,
        1,
        1,
        2,
        0,
    )
    trend = client_for(world.admin).get("/").context["trend_data"]
    assert trend["unchecked"] == [2]


def test_backfill_rebuilds_unchecked_days_from_the_reports_counts(world: Any, fleet: Any) -> None:
    now = utc_now()
    pc = fleet.enroll(world.office, machine(21))
    Host.objects.filter(pk=pc.host.pk).update(first_seen=now - dt.timedelta(days=4))
    fleet.report(pc, machine(21), at=now - dt.timedelta(days=3))
    fleet.report(pc, machine(21, process_list_readable=False), at=now - dt.timedelta(days=2))

    rollup.backfill(4, now)

    rows = {
        (timezone.localdate(now) - row.day).days: row
        for row in UnitDayStat.objects.filter(unit=world.office)
    }
    assert (rows[3].compliant, rows[3].unchecked) == (1, 0)
    assert (rows[2].compliant, rows[2].noncompliant, rows[2].unchecked) == (0, 0, 1)
    assert rows[1].unchecked == 1


def test_the_host_page_says_could_not_be_checked_and_why(world: Any, office: Any) -> None:
    host_id = office["pc-0002"].agent.host_id

    english = page_text(client_for(world.admin).get(f"/hosts/{host_id}/").content)
    chinese = page_text(client_for(world.admin, "zh-CN").get(f"/hosts/{host_id}/").content)

    assert "could not be checked" in english and "compliant" not in english.split("Identity")[0]
    assert "whether it runs is unknown: permission denied" in english
    assert "Run the check again as administrator" in english
    assert "未能检查" in chinese and "但无法判断是否运行：权限不足" in chinese
    assert "以管理员身份（Linux、macOS 上为 root）重新运行检查" in chinese
    # The OS's own English words are technical detail, behind their own element.
    findings = chinese.split("最新检查结果")[1]
    detail = "技术细节 the process list is not readable: psutil.AccessDenied"
    assert detail in findings


# --- alerts and rectification --------------------------------------------------------------


@pytest.fixture
def mailbox(settings: Any) -> Any:
    with smtp_sink() as (box, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.DEFAULT_FROM_EMAIL = "custos@example.gov.cn"
        yield box


def test_a_critical_rule_that_can_no_longer_be_checked_is_alerted_not_dropped(
    world: Any, fleet: Any, mailbox: Mailbox
) -> None:
    AlertSettings.objects.create(unit=world.county, email_enabled=True, mode="immediate")
    (pc,) = fleet.machines(world.office, machine(31))
    assert not Alert.objects.exists()

    fleet.report(pc, machine(31, process_list_readable=False))

    alerts = {alert.rule: alert for alert in Alert.objects.all()}
    assert alerts[VRV].kind == Kind.UNCHECKED
    assert alerts[VRV].data["cause"] == "permission_denied"
    assert {alert.kind for alert in alerts.values()} == {Kind.UNCHECKED}
    with translation.override("en"):
        assert "could not be checked: permission denied" in alert_line(alerts[VRV])
    delivery.run()
    (mail,) = mailbox.to("wang@example.gov.cn")
    assert "未能检查：权限不足" in mail.get_content()

    fleet.report(pc, machine(31, process_list_readable=False))  # still unknown: no news
    assert Alert.objects.filter(rule=VRV).count() == 1


def test_a_rechecked_notice_is_reopened_when_its_rule_can_no_longer_be_checked(
    world: Any, fleet: Any
) -> None:
    (pc,) = fleet.machines(world.office, machine(41, vrv_running=False))
    notice = actions.issue(
        pc.host,
        VRV,
        "张三",
        timezone.localdate() + dt.timedelta(days=7),
        "",
        world.admin,
        "user:wang",
        timezone.now(),
    )
    fleet.report(pc, machine(41))
    notice.refresh_from_db()
    assert notice.status == Status.RECHECKED

    fleet.report(pc, machine(41, process_list_readable=False))

    notice.refresh_from_db()
    assert notice.status == Status.OPEN
    assert list(notice.events.values_list("kind", flat=True))[-1] == EventKind.UNCHECKED
    with pytest.raises(AdminError):
        actions.close(notice, "", world.admin, "user:wang", timezone.now())


def test_a_notice_rechecked_before_its_rule_stopped_being_checkable_needs_a_reason_to_close(
    world: Any, fleet: Any
) -> None:
    """A notice left `rechecked` while its rule errs (as before the reopening existed) is not
    closed as fixed."""
    (pc,) = fleet.machines(world.office, machine(42, vrv_running=False))
    notice = actions.issue(
        pc.host,
        VRV,
        "张三",
        timezone.localdate() + dt.timedelta(days=7),
        "",
        world.admin,
        "user:wang",
        timezone.now(),
    )
    fleet.report(pc, machine(42, process_list_readable=False))
    type(notice).objects.filter(pk=notice.pk).update(status=Status.RECHECKED)
    notice.refresh_from_db()

    with pytest.raises(AdminError):
        actions.close(notice, "", world.admin, "user:wang", timezone.now())
    closed = actions.close(
        notice, "复查时无法读取进程列表", world.admin, "user:wang", timezone.now()
    )
    assert list(closed.events.values_list("kind", flat=True))[-1] == EventKind.CLOSED_OVERRIDE

"""One host's page: identity and asset fields, findings with readable evidence, removable
media and network from the last full report, report timeline, clone flag, rectifications,
and the admin's buttons; scoped, escaped, in the reader's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from server.fleet.models import Host, Report
from server.rectification.models import Rectification, Status
from tests.dashboard.seed import Machine, client_for, links_to, page_text, parse

pytestmark = pytest.mark.server

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def pc(world: Any, fleet: Any) -> Any:
    """A PC in 网信办 with VRV stopped, an unregistered USB stick and a Wi-Fi card; it sent
    a full report and then a heartbeat."""
    (enrolled,) = fleet.machines(
        world.office,
        Machine(
            vrv_running=False, unregistered_stick=True, wifi_card=True, responsible_person="张三"
        ),
    )
    fleet.report(enrolled)
    return enrolled


def page(user: Any, pc: Any, language: str = "en") -> Any:
    response = client_for(user, language).get(f"/hosts/{pc.agent.host_id}/")
    assert response.status_code == 200
    return response


def test_the_page_shows_identity_and_asset_fields(world: Any, pc: Any) -> None:
    text = page_text(page(world.admin, pc).content)

    for expected in (
        pc.agent.host_id,
        "pc-0417.bj.example.gov.cn",
        "UOS 20",
        "10.11.0.17",
        "52:54:00:12:34:56",
        "BJ-2026-0417",
        "张三",
        "办公室",
        "北京市/海淀区/网信办",
        "intranet-office 2026.11",
    ):
        assert expected in text


def test_failing_findings_come_first_with_their_evidence_as_tables(world: Any, pc: Any) -> None:
    response = page(world.admin, pc)
    findings = response.context["findings"]

    assert [item.finding.status for item in findings[:4]] == ["fail"] * 4
    assert response.context["failing"] == 4
    wifi = next(item for item in findings if item.finding.rule == "no-wireless-or-tethering")
    assert wifi.evidence.kind == "mapping"
    interfaces = dict(wifi.evidence.entries)["Interfaces"]  # the agent's keys, in words
    assert interfaces.kind == "table" and "Kind" in interfaces.columns
    content = response.content.decode()
    assert '<th scope="col">Kind</th>' in content and "wlan0" in content


def test_findings_read_in_the_readers_language(world: Any, pc: Any) -> None:
    chinese = page_text(page(world.admin, pc, "zh-CN").content)
    english = page_text(page(world.admin, pc, "en").content)

    assert "终端注册客户端已安装并运行（北信源）" in chinese
    assert "Terminal registration client installed and running (VRV)" in english
    assert "Terminal registration client installed and running (VRV)" not in chinese


def test_removable_media_history_and_attached_devices_come_from_the_last_full_report(
    world: Any, pc: Any
) -> None:
    response = page(world.admin, pc)
    state = response.context["state"]

    assert state.report.kind == "full"
    assert [event["serial"] for event in state.media_history] == ["AA00000000012"]
    assert [device["device"] for device in state.storage] == ["/dev/sdb"]
    text = page_text(response.content)
    assert "058f:6387" in text and "Generic Flash Disk" in text and "journal" in text


def test_network_interfaces_routes_and_dns_are_shown(world: Any, pc: Any) -> None:
    text = page_text(page(world.admin, pc).content)

    assert "eth0" in text and "wlan0" in text and "wireless" in text
    assert "0.0.0.0/0" in text and "10.11.0.1" in text
    assert "10.11.0.2" in text  # the DNS server


def test_the_timeline_lists_reports_newest_first_as_verified_at_ingest(world: Any, pc: Any) -> None:
    response = page(world.admin, pc)

    reports = response.context["reports"]
    assert [(report.seq, report.kind) for report in reports] == [(2, "heartbeat"), (1, "full")]
    text = page_text(response.content)
    assert text.count("verified at ingest") == 2
    assert "4 failed" in text


def test_a_suspected_clone_is_flagged_with_its_reason(world: Any, pc: Any) -> None:
    Host.objects.filter(pk=pc.host.pk).update(
        clone_suspected_at=timezone.now(), clone_reason="two different reports signed with seq 7"
    )

    text = page_text(page(world.auditor, pc).content)

    assert "Clone suspected" in text and "two different reports signed with seq 7" in text


def test_open_rectifications_of_the_host_are_listed(world: Any, pc: Any) -> None:
    Rectification.objects.create(
        host=pc.host,
        rule="terminal-registration-client",
        title_zh="终端注册客户端",
        title_en="Terminal registration client",
        message_zh="未运行",
        message_en="not running",
        severity="critical",
        category="software",
        responsible_person="张三",
        deadline=timezone.localdate() + dt.timedelta(days=7),
        status=Status.OPEN,
        issued_at=timezone.now(),
    )

    response = page(world.admin, pc)

    assert [notice.rule for notice in response.context["rectifications"]] == [
        "terminal-registration-client"
    ]
    assert links_to(
        response.content, f"/rectifications/{response.context['rectifications'][0].pk}/"
    )


def test_an_admin_gets_a_rectification_link_per_failing_finding_and_a_recheck_form(
    world: Any, pc: Any
) -> None:
    response = page(world.admin, pc)

    issue = [href for href, _ in links_to(response.content, "/rectifications/new/")]
    assert len(issue) == 4
    assert (
        f"/rectifications/new/?host={pc.agent.host_id}&rule=terminal-registration-client" in issue
    )
    content = response.content.decode()
    assert 'action="/spot-checks/"' in content and 'method="post"' in content
    assert f'name="host_id" value="{pc.agent.host_id}"' in content
    assert "csrfmiddlewaretoken" in content


def test_the_recheck_form_creates_a_command_for_the_host(world: Any, pc: Any) -> None:
    from server.fleet.models import Command

    browser = client_for(world.admin)
    response = browser.post("/spot-checks/", {"host_id": pc.agent.host_id})

    assert response.status_code in (200, 302)
    assert Command.objects.filter(host=pc.host, kind="recheck").count() == 1


def test_an_auditor_reads_the_page_without_the_admins_buttons(world: Any, pc: Any) -> None:
    response = page(world.auditor, pc)

    assert not links_to(response.content, "/rectifications/new/")
    assert 'action="/spot-checks/"' not in response.content.decode()


def test_a_host_outside_the_users_scope_answers_404_like_one_that_does_not_exist(
    world: Any, pc: Any
) -> None:
    assert client_for(world.other_admin).get(f"/hosts/{pc.agent.host_id}/").status_code == 404
    assert client_for(world.admin).get("/hosts/h_" + "0" * 32 + "/").status_code == 404
    assert client_for(world.superuser).get(f"/hosts/{pc.agent.host_id}/").status_code == 200
    assert client_for(None).get(f"/hosts/{pc.agent.host_id}/").status_code == 302


def test_strings_from_agents_are_escaped_everywhere_on_the_page(world: Any, fleet: Any) -> None:
    (hostile,) = fleet.machines(
        world.office,
        Machine(hostname=HOSTILE, remote_control=HOSTILE, responsible_person=HOSTILE),
    )

    response = page(world.admin, hostile)

    content = response.content.decode()
    assert HOSTILE not in content
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in content
    assert all(attrs.get("src") for attrs in parse(response.content).scripts)


def test_a_host_without_a_full_report_says_so(world: Any, fleet: Any) -> None:
    enrolled = fleet.enroll(world.office, Machine(hostname="pc-new"))

    response = page(world.admin, enrolled)

    assert response.context["state"].report is None
    assert "No full report yet" in page_text(response.content)


def test_the_page_decodes_only_the_newest_full_report(world: Any, pc: Any, fleet: Any) -> None:
    fleet.report(pc, Machine(vrv_running=False, wifi_card=True))

    state = page(world.admin, pc).context["state"]

    assert state.report == Report.objects.filter(host=pc.host, kind="full").order_by("-seq").first()
    assert state.media_history == [] and state.storage == []

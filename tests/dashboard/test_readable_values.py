"""Every value a person reads is in words and on the server's clock, in Chinese and English.

Issue 8 §5: the notice page, the printed 整改通知书 and host pages showed `CRITICAL`,
`software`, `fail (起始于 …)`, `installed false`, `user:demo-admin`, purpose `intranet` and UTC
timestamps with microseconds. These tests read the rendered pages of a PC that fails most of
the bundled intranet policy (reported through the real API) and look for the raw codes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import re
import zoneinfo
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone, translation

from agent import glossary
from agent.i18n import word
from agent.output.sheet import render_sheet
from server.alerts import texts
from server.alerts.models import Alert
from server.rectification.models import Rectification
from tests.dashboard.seed import (
    Enrolled,
    Fleet,
    Machine,
    check_result,
    client_for,
    office_policy,
    page_text,
)
from tests.server.agents import utc_now

pytestmark = pytest.mark.server

BROKEN = Machine(
    vrv_running=False,
    zhongfu_installed=False,
    unregistered_stick=True,
    wifi_card=True,
    remote_control="TeamViewer",
    purpose="intranet",
    classification="秘密",
)
FAILED_SINCE = dt.timedelta(days=3, hours=5)  # the failure started this long before the notice
# Codes as agents and the server store them; none may reach a Chinese page as they are.
RAW_IN_CHINESE = re.compile(
    r"\b(critical|high|medium|low|info|software|media|internet|asset|pass|fail|error"
    r"|not_applicable|intranet|mass-storage|mtp-ptp|registered_only|wired|wireless|wwan"
    r"|usb-tether|unreachable|reached|schedule|journal|present|mode|installed|running"
    r"|registered|true|false|True|False|None)\b"
)
# In English the words of some codes are the codes themselves ("critical", "wired"); these
# are not English words, or not how the page should say them.
RAW_IN_ENGLISH = re.compile(
    r"\b(not_applicable|mass-storage|mtp-ptp|registered_only|usb-tether|true|false|True|False"
    r"|has_serial|vendor_id|size_bytes|forbidden_kinds|default_routes)\b"
)
RAW_EVERYWHERE = re.compile(
    r"\b(user|cli|host|token):[\w-]"  # actors as codes
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"  # ISO 8601 as stored
    r"|\d{2}:\d{2}:\d{2}\.\d"  # microseconds
    r"|[+-]00:00\b"  # a UTC offset
)


def identifiers() -> list[str]:
    """Rule and policy ids: identifiers a page shows on purpose (they are not words)."""
    policy = office_policy()
    rules = [
        rule.id
        for section in (policy.required_software, policy.forbidden_software)
        for rule in section
    ]
    if policy.removable_media:
        rules += [rule.id for rule in policy.removable_media.rules]
    if policy.internet:
        rules += [rule.id for rule in policy.internet.rules]
    rules += [rule.id for rule in policy.asset]
    return sorted([*rules, policy.id], key=len, reverse=True)


def raw_values(text: str, language: str) -> list[str]:
    for identifier in identifiers():
        text = text.replace(identifier, " ")
    text = re.sub(r"\S*/\S*", " ", text)  # paths and addresses an agent sent (/media/…)
    found = [m.group(0) for m in RAW_EVERYWHERE.finditer(text)]
    pattern = RAW_IN_CHINESE if language.startswith("zh") else RAW_IN_ENGLISH
    return found + [m.group(0) for m in pattern.finditer(text)]


@pytest.fixture
def pc(world: Any, fleet: Fleet) -> Enrolled:
    world.admin.first_name = "王伟"
    world.admin.save()
    pc = fleet.enroll(world.office, BROKEN)
    fleet.report(pc, at=utc_now() - FAILED_SINCE)
    return pc


@pytest.fixture
def notice(world: Any, pc: Enrolled) -> Rectification:
    """Issued from the form as an admin does, keeping the remark the form suggests (the
    rule's remedy) and adding a line."""
    admin = client_for(world.admin, "zh-CN")
    form = admin.get(
        "/rectifications/new/", {"host": pc.agent.host_id, "rule": "terminal-registration-client"}
    )
    remark = form.context["form"].initial["remark"]
    deadline = timezone.localdate() + dt.timedelta(days=7)
    answer = admin.post(
        "/rectifications/new/",
        {
            "host": pc.agent.host_id,
            "rule": "terminal-registration-client",
            "responsible_person": "张三",
            "deadline": deadline.isoformat(),
            "remark": f"{remark}\n请于本周内完成。",
        },
    )
    assert answer.status_code == 302, answer.content
    return Rectification.objects.get()


def pages(pc: Enrolled, notice: Rectification) -> dict[str, str]:
    return {
        "host": f"/hosts/{pc.agent.host_id}/",
        "notice": f"/rectifications/{notice.pk}/",
        "print": f"/rectifications/{notice.pk}/print/",
        "notices": "/rectifications/",
        "violations": "/violations/",
        "violation hosts": "/violations/?rule=terminal-registration-client",
        "overview": "/",
        "hosts": "/hosts/",
        "audit": "/audit/",
        "alerts": f"/alerts/?unit={pc.host.unit.pk}",
    }


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_no_page_shows_a_raw_code_or_a_stored_timestamp(
    world: Any, pc: Enrolled, notice: Rectification, language: str
) -> None:
    browser = client_for(world.admin, language)
    problems = {}
    for name, url in pages(pc, notice).items():
        response = browser.get(url)
        assert response.status_code == 200, (name, response.status_code)
        found = raw_values(page_text(response.content), language)
        if found:
            problems[name] = sorted(set(found))
    assert problems == {}


def test_the_host_page_reads_purpose_classification_and_evidence_in_words(
    world: Any, pc: Enrolled
) -> None:
    chinese = page_text(client_for(world.admin, "zh-CN").get(f"/hosts/{pc.agent.host_id}/").content)
    english = page_text(client_for(world.admin, "en").get(f"/hosts/{pc.agent.host_id}/").content)

    assert "用途 内网" in chinese and "密级 秘密" in chinese
    assert "Purpose Intranet" in english and "Classification Confidential" in english
    assert "是否安装 已安装" in chinese and "是否运行 未运行" in chinese
    assert "是否登记 未登记" in chinese and "无线网卡" in chinese and "移动存储" in chinese
    assert "Installed installed" in english and "Running not running" in english
    assert "Registered not registered" in english and "USB storage" in english


def test_times_are_on_the_servers_clock_to_the_minute_or_second(
    world: Any, pc: Enrolled, notice: Rectification
) -> None:
    assert settings.TIME_ZONE == "Asia/Shanghai"  # CUSTOS_TIME_ZONE's default
    reported = pc.host.last_seen
    assert reported is not None
    shanghai = reported.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    host = page_text(client_for(world.admin, "zh-CN").get(f"/hosts/{pc.agent.host_id}/").content)
    assert shanghai.strftime("%Y-%m-%d %H:%M:%S") in host
    assert reported.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") not in host
    history = pc.host.findings.get(rule="no-unregistered-storage-history").evidence["events"][0]
    connected = dt.datetime.fromisoformat(history["time"])  # as the agent wrote it, UTC
    assert history["time"] not in host
    assert (
        f"首次接入 {connected.astimezone(zoneinfo.ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}"
        in host
    )

    audit = page_text(client_for(world.admin, "zh-CN").get("/audit/").content)
    issued = notice.issued_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert f"{issued:%Y-%m-%d %H:%M:%S} 王伟 下发整改通知" in audit


def test_the_notice_names_the_problem_its_severity_category_and_people_in_words(
    world: Any, notice: Rectification
) -> None:
    chinese = page_text(
        client_for(world.admin, "zh-CN").get(f"/rectifications/{notice.pk}/").content
    )
    english = page_text(client_for(world.admin, "en").get(f"/rectifications/{notice.pk}/").content)

    assert "存在问题 已安装但未运行：终端注册客户端（北信源）" in chinese
    assert "严重程度 严重" in chinese and "类别 软件" in chinese
    assert re.search(r"当前结果 不合格（自 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 起）", chinese)
    assert "下发 王伟" in chinese  # the history names the person, not "user:wang"
    assert "Problem Installed but not running: Terminal registration client (VRV)" in english
    assert "Severity critical" in english and "Category Software" in english
    assert re.search(r"Current result fail since \d{4}-\d{2}-\d{2} \d{2}:\d{2}", english)


def test_the_printed_notice_states_the_requirement_once_and_when_the_failure_was_found(
    world: Any, pc: Enrolled, notice: Rectification
) -> None:
    remedy = notice.remedy_zh
    page = page_text(
        client_for(world.admin, "zh-CN").get(f"/rectifications/{notice.pk}/print/").content
    )

    assert page.count(remedy) == 1
    assert "请于本周内完成。" in page
    assert notice.found_at is not None
    assert abs(notice.found_at - (notice.issued_at - FAILED_SINCE)) < dt.timedelta(minutes=1)
    assert f"发现于 {timezone.localtime(notice.found_at):%Y-%m-%d %H:%M}" in page
    assert f"发现于 {timezone.localtime(notice.issued_at):%Y-%m-%d %H:%M}" not in page
    assert "存在问题 已安装但未运行：终端注册客户端（北信源）" in page
    assert "严重程度: 严重" in page


def test_a_notice_without_the_remedy_in_its_remark_prints_both(world: Any, pc: Enrolled) -> None:
    deadline = timezone.localdate() + dt.timedelta(days=7)
    client_for(world.admin, "zh-CN").post(
        "/rectifications/new/",
        {
            "host": pc.agent.host_id,
            "rule": "no-remote-control",
            "responsible_person": "张三",
            "deadline": deadline.isoformat(),
            "remark": "三日内完成。",
        },
    )
    notice = Rectification.objects.get(rule="no-remote-control")
    page = page_text(
        client_for(world.admin, "zh-CN").get(f"/rectifications/{notice.pk}/print/").content
    )
    assert page.count(notice.remedy_zh) == 1 and "三日内完成。" in page
    assert "发现违规软件：TeamViewer 15.2、TeamViewer（进程 1204）" in page


def test_the_violation_list_names_what_is_wrong_not_the_requirement(
    world: Any, fleet: Fleet, pc: Enrolled
) -> None:
    chinese = page_text(client_for(world.admin, "zh-CN").get("/violations/").content)
    english = page_text(client_for(world.admin, "en").get("/violations/").content)

    assert "已安装但未运行：终端注册客户端（北信源）" in chinese
    assert "未安装：保密检查工具（中孚）" in chinese
    assert "接入了未登记的移动存储介质" in chinese and "存在禁止类型的网络接口" in chinese
    assert "Not installed: Confidentiality-check tool (Zhongfu)" in english
    hosts = page_text(
        client_for(world.admin, "zh-CN")
        .get("/violations/", {"rule": "no-unregistered-storage"})
        .content
    )
    assert (
        "接入了未登记的移动存储介质：Generic Flash Disk [058f:6387 序列号 AA00000000012]" in hosts
    )


def test_a_rule_some_hosts_lack_and_others_do_not_run_says_both(world: Any, fleet: Fleet) -> None:
    fleet.machines(
        world.office,
        Machine(hostname="pc-a", vrv_installed=False),
        Machine(hostname="pc-b", vrv_running=False),
    )
    chinese = page_text(client_for(world.admin, "zh-CN").get("/violations/").content)

    assert "未安装或未运行：终端注册客户端（北信源）" in chinese


def test_the_audit_log_names_people_actions_and_targets_in_words(
    world: Any, notice: Rectification
) -> None:
    chinese = page_text(client_for(world.admin, "zh-CN").get("/audit/").content)
    english = page_text(client_for(world.admin, "en").get("/audit/").content)

    assert "王伟 下发整改通知 整改通知 #" in chinese
    assert "命令行（test） 新增单位" in chinese  # cli:test
    assert "注册令牌 #" in chinese and "整改期限" in chinese
    assert "王伟 issued a rectification notice rectification notice #" in english
    assert "command line (test) added a unit" in english


def test_alert_texts_name_the_severity_and_the_problem_in_the_readers_language(
    world: Any, pc: Enrolled
) -> None:
    alert = Alert.objects.get(rule="terminal-registration-client")
    with translation.override("zh-hans"):
        line = texts.alert_line(alert)
    with translation.override("en"):
        english = texts.alert_line(alert)
    hook = texts.webhook_item(alert)

    assert "[严重] 已安装但未运行：终端注册客户端（北信源）" in line
    assert "critical" not in line and not RAW_EVERYWHERE.search(line)
    assert "[critical] Installed but not running: Terminal registration client (VRV)" in english
    assert hook["problem"]["zh"] == "已安装但未运行：终端注册客户端（北信源）"
    assert hook["text"]["zh"] == line and hook["severity"] == "critical"


def test_the_sheet_and_the_pages_label_the_same_fields_with_the_same_words(
    world: Any, pc: Enrolled, notice: Rectification
) -> None:
    sheet = render_sheet(check_result(BROKEN, pc.agent.machine_id, utc_now()), "zh")
    host = page_text(client_for(world.admin, "zh-CN").get(f"/hosts/{pc.agent.host_id}/").content)
    printed = page_text(
        client_for(world.admin, "zh-CN").get(f"/rectifications/{notice.pk}/print/").content
    )
    for key, field in (
        ("sheet.host", "hostname"),
        ("sheet.os", "os"),
        ("sheet.ip", "ip_addresses"),
        ("sheet.mac", "mac_addresses"),
        ("sheet.disk", "disk_serials"),
        ("sheet.machine_number", "machine_number"),
        ("sheet.responsible_person", "responsible_person"),
        ("sheet.department", "department"),
        ("sheet.classification", "classification"),
        ("sheet.purpose", "purpose"),
        ("sheet.policy", "policy"),
    ):
        label = word(key, "zh")
        assert label == glossary.FIELDS[field][0]
        assert label in sheet and label in host, field
    for field in ("machine_number", "responsible_person", "department", "hostname"):
        assert glossary.FIELDS[field][0] in printed
    assert "设备编号" not in sheet + host + printed
    assert re.search(r"用途\s+内网", sheet) and "用途 内网" in host  # and the values alike


def test_notices_issued_before_found_at_existed_get_when_their_failure_began(
    world: Any, fleet: Fleet, pc: Enrolled
) -> None:
    """The migration fills 发现于 from the finding history: the last time the rule started
    failing before the notice was issued (it passed for a while in between here)."""
    now = utc_now()
    fleet.report(pc, dataclasses.replace(BROKEN, vrv_running=True), at=now - dt.timedelta(days=2))
    fleet.report(pc, BROKEN, at=now - dt.timedelta(days=1))
    deadline = timezone.localdate() + dt.timedelta(days=7)
    client_for(world.admin, "zh-CN").post(
        "/rectifications/new/",
        {
            "host": pc.agent.host_id,
            "rule": "terminal-registration-client",
            "responsible_person": "张三",
            "deadline": deadline.isoformat(),
            "remark": "",
        },
    )
    notice = Rectification.objects.get()
    started = notice.found_at
    Rectification.objects.filter(pk=notice.pk).update(found_at=None)  # as before the field

    migration = importlib.import_module("server.rectification.migrations.0002_found_at")
    migration.fill_found_at(apps, None)

    notice.refresh_from_db()
    assert notice.found_at == started
    assert abs(notice.found_at - (now - dt.timedelta(days=1))) < dt.timedelta(seconds=1)

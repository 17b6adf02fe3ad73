"""A violation names what is wrong, derived from the real evaluators' findings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.evaluation import Finding, Status, evaluate
from agent.facts import Inventory, ProbeOutcome, ProbeResult, Route
from agent.i18n import LocalText
from agent.policy.loader import load_policy, load_policy_bytes
from agent.policy.model import Policy
from agent.problem_text import not_checked, subject, what_is_wrong, what_is_wrong_with_rule
from tests import machines
from tests.machines import NOW, office_pc
from tests.test_evaluation import POLICY_YAML

OFFICE_POLICY = Path(__file__).resolve().parents[1] / "policies" / "intranet-office.yaml"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_bytes(POLICY_YAML.encode(), "test.yaml")


def failing(
    policy: Policy, inventory: Inventory, probes: ProbeOutcome = ProbeOutcome.UNREACHABLE
) -> dict[str, Finding]:
    results = {"net-probes": (ProbeResult("p1", "tcp", "203.0.113.9:443", probes, 12.5, "detail"),)}
    found = evaluate(policy, inventory, "linux", NOW, results)
    return {f.rule: f for f in found if f.status is Status.FAIL}


def wrong(finding: Finding) -> LocalText:
    return what_is_wrong(finding.category.value, finding.title, finding.evidence)


def test_a_required_client_reads_not_installed_or_not_running_with_its_name() -> None:
    office = load_policy(OFFICE_POLICY)
    pc = dataclasses.replace(office_pc(), software=())
    found = {f.rule: f for f in evaluate(office, pc, "linux", NOW, {})}
    missing = wrong(found["terminal-audit-client"])
    assert missing.zh == "未安装：终端安全审计客户端（奇安信天擎）"
    assert missing.en == "Not installed: Endpoint audit client (Qi An Xin TianQing)"


def test_a_client_installed_but_stopped_says_so(policy: Policy) -> None:
    pc = office_pc()
    stopped = dataclasses.replace(pc.services[0], state="stopped")  # type: ignore[index]
    pc = dataclasses.replace(pc, processes=pc.processes[1:], services=(stopped,))  # type: ignore[index]
    text = wrong(failing(policy, pc)["audit-client"])
    assert (text.zh, text.en) == (
        "已安装但未运行：审计客户端",
        "Installed but not running: Audit client",
    )


def test_a_rule_failing_on_many_hosts_says_both_when_both_happen() -> None:
    title = LocalText(
        "终端安全审计客户端已安装并运行（奇安信天擎）",
        "Endpoint audit client installed and running (Qi An Xin TianQing)",
    )
    evidence = {"installed": False, "running": False, "packages": []}
    both = what_is_wrong_with_rule("software", title, evidence, {False, True})
    assert both.zh == "未安装或未运行：终端安全审计客户端（奇安信天擎）"
    assert both.en == "Not installed or not running: Endpoint audit client (Qi An Xin TianQing)"
    assert what_is_wrong_with_rule("software", title, evidence, {False}).zh.startswith("未安装：")


def test_forbidden_software_names_what_was_found(policy: Policy) -> None:
    pc = office_pc()
    clash = dataclasses.replace(pc.processes[0], pid=4711, name="clash-linux")  # type: ignore[index]
    text = wrong(
        failing(policy, dataclasses.replace(pc, processes=(*pc.processes, clash)))["no-proxy"]
    )  # type: ignore[misc]
    assert text.zh == "发现违规软件：clash-linux（进程 4711）"
    assert text.en == "Forbidden software found: clash-linux (process 4711)"


def test_unregistered_storage_is_named_by_its_ids_and_serial(policy: Policy) -> None:
    pc = office_pc()
    media = dataclasses.replace(
        pc.media, storage=(machines.REGISTERED_STICK, machines.UNREGISTERED_STICK)
    )  # type: ignore[arg-type]
    found = failing(policy, dataclasses.replace(pc, media=media))
    text = wrong(found["usb-attached"])
    assert text.zh == "接入了未登记的移动存储介质：SMI USB DISK [090c:1000 序列号 0376019050008522]"
    assert "SanDisk" not in text.zh  # the registered stick is not a problem
    assert text.en.startswith("Unregistered removable storage attached: SMI USB DISK")


def test_history_phones_interfaces_routes_connections_dns_and_asset(policy: Policy) -> None:
    pc = office_pc()
    media = dataclasses.replace(  # type: ignore[arg-type]
        pc.media,
        history=(machines.history_event("0376019050008522", 3),),
        usb_devices=(machines.ANDROID_PHONE,),
    )
    wifi = dataclasses.replace(machines.WIFI_DOWN, is_up=True)
    second = Route("0.0.0.0/0", "192.168.43.1", "wlp2s0", 600, "ipv4")
    network = dataclasses.replace(  # type: ignore[arg-type]
        pc.network,
        interfaces=(machines.LOOPBACK, machines.WIRED, wifi),
        routes=(machines.DEFAULT_ROUTE, second),
        dns_servers=("10.12.0.53", "8.8.8.8"),
        connections=(machines.EXTERNAL_CONNECTION,),
    )
    host = machines.host_facts(dataclasses.replace(machines.host_facts().asset, department=""))
    found = failing(
        policy,
        dataclasses.replace(pc, media=media, network=network, host=host),
        ProbeOutcome.REACHED,
    )
    texts = {rule: wrong(finding).zh for rule, finding in found.items()}
    assert (
        texts["usb-history"]
        == "接入过未登记的移动存储介质：USB DISK [090c:1000 序列号 0376019050008522]"
    )
    assert (
        texts["usb-phones"] == "连接了手机或相机：Xiaomi Redmi Note 12 [2717:ff48 序列号 a1b2c3d4]"
    )
    assert texts["net-probes"] == "可以访问互联网：203.0.113.9:443"
    assert texts["net-ifaces"] == "存在禁止类型的网络接口：wlp2s0（无线网卡）"
    assert texts["net-routes"] == "默认路由过多：IPv4 2 条，最多 1 条"
    assert texts["net-conns"] == "存在到允许网段以外地址的连接：220.181.38.148:443（chrome）"
    assert texts["net-dns"] == "DNS 服务器不在允许的网段内：8.8.8.8"
    assert texts["asset-fields"] == "资产登记信息缺失：部门"
    assert wrong(found["net-ifaces"]).en == "Network interface of a forbidden kind: wlp2s0 (Wi-Fi)"


def test_a_gateway_outside_names_only_the_gateways_outside(policy: Policy) -> None:
    pc = office_pc()
    outside = Route("0.0.0.0/0", "192.0.2.1", "enp3s0", 100, "ipv4")
    inside = Route("::/0", "fe80::1", "enp3s0", 100, "ipv6")  # link-local: always inside
    network = dataclasses.replace(pc.network, routes=(outside, inside))  # type: ignore[arg-type]
    text = wrong(failing(policy, dataclasses.replace(pc, network=network))["net-routes"])
    assert text.zh == "默认网关不在允许的网段内：192.0.2.1"


def test_long_lists_are_cut_and_say_how_many_more() -> None:
    evidence = {"dns_servers": [], "outside": [f"203.0.113.{n}" for n in range(1, 9)]}
    text = what_is_wrong("internet", LocalText("DNS", "DNS"), evidence)
    assert text.zh.endswith("203.0.113.5、等 3 项") and text.en.endswith("and 3 more")


def test_evidence_it_cannot_read_falls_back_to_the_title() -> None:
    title = LocalText("某项要求", "Some requirement")
    assert what_is_wrong("custom", title, {"x": 1}).zh == "不符合要求：某项要求"
    assert what_is_wrong("software", title, "not a mapping").zh == "发现违规软件：某项要求"
    devices = {"devices": [{"vendor_id": "0781", "product_id": "5567", "serial": "1"}]}
    assert what_is_wrong("media", title, devices).zh == "不符合要求：某项要求"


def test_the_subject_of_a_title_that_does_not_read_like_a_requirement_is_the_title() -> None:
    title = LocalText("审计客户端", "Audit client")
    assert subject(title, required=True) == title
    assert subject(LocalText("杀毒软件已安装并运行", "Antivirus installed and running"), True) == (
        LocalText("杀毒软件", "Antivirus")
    )
    assert subject(
        LocalText("未安装、未运行远程控制软件", "No remote-control software"), False
    ) == (LocalText("远程控制软件", "remote-control software"))


def test_a_rule_that_could_be_checked_nowhere_says_so_instead_of_its_requirement() -> None:
    client = LocalText(
        "终端安全审计客户端已安装并运行", "Endpoint audit client installed and running"
    )
    assert not_checked("software", client, required=True) == LocalText(
        "未能检查：终端安全审计客户端", "Could not be checked: Endpoint audit client"
    )
    remote = LocalText("未安装、未运行远程控制软件", "No remote-control software")
    assert not_checked("software", remote, required=False).zh == "未能检查：远程控制软件"
    history = LocalText("移动存储接入记录", "Removable-media history")
    assert not_checked("media", history, required=False).en == (
        "Could not be checked: Removable-media history"
    )

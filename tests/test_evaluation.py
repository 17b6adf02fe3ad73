"""Evaluation: each persona's one difference is reported, with evidence, and nothing else."""

from __future__ import annotations

import dataclasses

import pytest

from agent.errors import Cause
from agent.evaluation import Finding, Status, evaluate
from agent.facts import (
    AssetFields,
    Interface,
    InterfaceKind,
    Inventory,
    ProbeOutcome,
    ProbeResult,
    Route,
)
from agent.policy.loader import load_policy_bytes
from agent.policy.model import Policy
from tests import machines
from tests.machines import NOW, office_pc

POLICY_YAML = """
id: test-intranet
version: "1"
title: {zh: 测试, en: Test}
required_software:
  - id: audit-client
    severity: high
    title: {zh: 审计客户端, en: Audit client}
    match: {name: '^vrvedp'}
    must_run: {processes: ['^vrvedp_m$'], services: ['^vrvedp$'], mode: any}
  - id: windows-only
    severity: low
    title: {zh: 仅Windows, en: Windows only}
    platforms: [windows]
    match: {name: 'anything'}
forbidden_software:
  - id: no-proxy
    severity: high
    title: {zh: 禁止代理工具, en: No proxy tools}
    match: {any: [{name: 'clash'}, {name: 'v2ray'}]}
    processes: ['^clash', 'shadowsocks']
removable_media:
  mode: registered_only
  registered:
    - {vendor_id: "0781", product_id: "5567", serial: "4C530001230521112345", note: 办公室1号}
  rules:
    - {id: usb-attached, check: storage_attached, severity: high, title: {zh: 移动存储, en: Removable storage}}
    - {id: usb-history, check: storage_history, lookback: 30d, severity: medium, title: {zh: 接入记录, en: History}}
    - {id: usb-phones, check: phones, severity: medium, title: {zh: 手机, en: Phones}}
internet:
  mode: forbidden
  allowed_networks: [10.0.0.0/8]
  rules:
    - id: net-probes
      check: probes
      severity: critical
      title: {zh: 外联探测, en: Egress probes}
      probes: [{id: p1, kind: tcp, host: 203.0.113.9, port: 443}]
    - {id: net-ifaces, check: interfaces, forbidden_kinds: [wireless, wwan, usb-tether], severity: high, title: {zh: 网卡, en: Interfaces}}
    - {id: net-routes, check: default_routes, max: 1, severity: high, title: {zh: 默认路由, en: Default routes}}
    - {id: net-conns, check: connections, severity: high, title: {zh: 外部连接, en: Connections}}
    - {id: net-dns, check: dns, severity: low, title: {zh: DNS, en: DNS}}
asset:
  - id: asset-fields
    severity: medium
    title: {zh: 资产登记, en: Asset register}
    required_fields: [machine_number, responsible_person, department]
"""


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_bytes(POLICY_YAML.encode(), "test.yaml")


def probe(outcome: ProbeOutcome, verified: bool = False) -> dict[str, tuple[ProbeResult, ...]]:
    return {
        "net-probes": (
            ProbeResult("p1", "tcp", "203.0.113.9:443", outcome, 12.5, "detail", verified),
        )
    }


def findings_of(
    policy: Policy, inventory: Inventory, probes: dict | None = None, platform: str = "linux"
) -> dict[str, Finding]:
    results = evaluate(policy, inventory, platform, NOW, probes or probe(ProbeOutcome.UNREACHABLE))
    return {f.rule: f for f in results}


def failing(findings: dict[str, Finding]) -> set[str]:
    return {rule for rule, f in findings.items() if f.status is Status.FAIL}


def test_the_compliant_office_pc_passes_every_rule(policy: Policy) -> None:
    found = findings_of(policy, office_pc())
    assert failing(found) == set()
    assert found["windows-only"].status is Status.NOT_APPLICABLE
    assert {f.status for r, f in found.items() if r != "windows-only"} == {Status.PASS}
    assert found["audit-client"].evidence["installed"] is True
    assert found["audit-client"].evidence["running"] is True


def test_it_reports_a_required_client_that_is_not_installed(policy: Policy) -> None:
    pc = dataclasses.replace(office_pc(), software=office_pc().software[1:])  # type: ignore[index]
    found = findings_of(policy, pc)
    assert failing(found) == {"audit-client"}
    assert found["audit-client"].message.en == "Not installed"
    assert found["audit-client"].evidence["installed"] is False


def test_it_reports_a_client_installed_but_stopped(policy: Policy) -> None:
    pc = office_pc()
    stopped = dataclasses.replace(pc.services[0], state="stopped")  # type: ignore[index]
    pc = dataclasses.replace(pc, processes=pc.processes[1:], services=(stopped,))  # type: ignore[index]
    finding = findings_of(policy, pc)["audit-client"]
    assert finding.status is Status.FAIL
    assert finding.evidence["installed"] is True and finding.evidence["running"] is False
    assert "not running" in finding.message.en and "未运行" in finding.message.zh
    assert finding.evidence["services"] == [
        {"name": "vrvedp", "state": "stopped", "start_mode": "auto"}
    ]


def test_unknown_services_do_not_hide_a_running_process(policy: Policy) -> None:
    pc = dataclasses.replace(
        office_pc(), services=None, errors={"services": "systemd is not running"}
    )
    assert findings_of(policy, pc)["audit-client"].status is Status.PASS


def test_unknown_services_and_no_process_is_an_error_not_a_pass(policy: Policy) -> None:
    pc = office_pc()
    pc = dataclasses.replace(
        pc, services=None, processes=pc.processes[1:], errors={"services": "systemd is not running"}
    )  # type: ignore[index]
    finding = findings_of(policy, pc)["audit-client"]
    assert finding.status is Status.ERROR
    assert "whether it runs is unknown" in finding.message.en
    assert finding.evidence["error"] == "systemd is not running"


def test_it_finds_a_portable_bypass_tool_that_is_only_running(policy: Policy) -> None:
    from agent.facts import Process

    pc = office_pc()
    pc = dataclasses.replace(
        pc,
        processes=(
            *pc.processes,
            Process(
                pid=7,
                name="clash-win64.exe",
                exe="C:\\Users\\a\\Desktop\\clash-win64.exe",
                user="a",
            ),
        ),
    )  # type: ignore[misc]
    finding = findings_of(policy, pc)["no-proxy"]
    assert finding.status is Status.FAIL
    assert finding.evidence["processes"] == [
        {"pid": 7, "name": "clash-win64.exe", "exe": "C:\\Users\\a\\Desktop\\clash-win64.exe"}
    ]


def with_storage(*devices: object) -> Inventory:
    pc = office_pc()
    media = dataclasses.replace(pc.media, storage=devices)  # type: ignore[arg-type]
    return dataclasses.replace(pc, media=media)


def test_a_registered_stick_passes(policy: Policy) -> None:
    finding = findings_of(policy, with_storage(machines.REGISTERED_STICK))["usb-attached"]
    assert finding.status is Status.PASS
    assert finding.evidence["devices"][0]["registered"] is True


def test_a_registered_stick_matches_whatever_the_case_of_its_serial(policy: Policy) -> None:
    stick = dataclasses.replace(machines.REGISTERED_STICK, serial="4c530001230521112345")
    assert findings_of(policy, with_storage(stick))["usb-attached"].status is Status.PASS


def test_an_unregistered_stick_fails_with_its_ids_and_serial(policy: Policy) -> None:
    finding = findings_of(
        policy, with_storage(machines.REGISTERED_STICK, machines.UNREGISTERED_STICK)
    )["usb-attached"]
    assert finding.status is Status.FAIL
    assert "090c:1000" in finding.message.en and "0376019050008522" in finding.message.en
    assert "4C530001230521112345" not in finding.message.en
    assert [d["registered"] for d in finding.evidence["devices"]] == [True, False]


def test_a_stick_without_serial_is_never_registered_and_says_why(policy: Policy) -> None:
    finding = findings_of(policy, with_storage(machines.NO_SERIAL_STICK))["usb-attached"]
    assert finding.status is Status.FAIL
    assert "no serial number" in finding.message.en and "无序列号" in finding.message.zh
    assert finding.evidence["devices"][0]["has_serial"] is False


def with_history(*events: object, error: str = "") -> Inventory:
    pc = office_pc()
    media = dataclasses.replace(pc.media, history=events, history_error=error)  # type: ignore[arg-type]
    return dataclasses.replace(pc, media=media)


def test_an_unregistered_stick_in_the_history_fails(policy: Policy) -> None:
    finding = findings_of(
        policy, with_history(machines.history_event("0376019050008522", days_ago=3))
    )["usb-history"]
    assert finding.status is Status.FAIL
    assert finding.evidence["events"][0]["serial"] == "0376019050008522"


def test_history_older_than_the_lookback_does_not_count(policy: Policy) -> None:
    finding = findings_of(
        policy, with_history(machines.history_event("0376019050008522", days_ago=45))
    )["usb-history"]
    assert finding.status is Status.PASS


def test_unreadable_history_is_an_error_not_a_clean_record(policy: Policy) -> None:
    finding = findings_of(policy, with_history(error="No journal files were found"))["usb-history"]
    assert finding.status is Status.ERROR
    assert "could not be read" in finding.message.en
    assert finding.evidence["error"] == "No journal files were found"


def test_a_connected_phone_fails(policy: Policy) -> None:
    pc = office_pc()
    pc = dataclasses.replace(
        pc, media=dataclasses.replace(pc.media, usb_devices=(machines.ANDROID_PHONE,))
    )  # type: ignore[arg-type]
    finding = findings_of(policy, pc)["usb-phones"]
    assert finding.status is Status.FAIL
    assert "Redmi Note 12" in finding.message.en


def with_network(**changes: object) -> Inventory:
    pc = office_pc()
    return dataclasses.replace(pc, network=dataclasses.replace(pc.network, **changes))  # type: ignore[arg-type]


def test_a_wifi_card_that_is_up_is_a_second_way_out(policy: Policy) -> None:
    wifi_up = dataclasses.replace(machines.WIFI_DOWN, is_up=True)
    finding = findings_of(
        policy, with_network(interfaces=(machines.LOOPBACK, machines.WIRED, wifi_up))
    )["net-ifaces"]
    assert finding.status is Status.FAIL
    assert "wlp2s0 (Wi-Fi, up)" in finding.message.en
    assert "wlp2s0（无线网卡，已启用）" in finding.message.zh


def test_a_wifi_card_that_is_down_passes_when_the_rule_checks_up_interfaces(policy: Policy) -> None:
    finding = findings_of(policy, with_network(interfaces=(machines.WIRED, machines.WIFI_DOWN)))[
        "net-ifaces"
    ]
    assert finding.status is Status.PASS


def test_usb_tethering_fails(policy: Policy) -> None:
    tether = Interface(
        name="usb0",
        kind=InterfaceKind.USB_TETHER,
        is_up=True,
        mac="",
        addresses=(),
        driver="rndis_host",
    )
    assert (
        findings_of(policy, with_network(interfaces=(machines.WIRED, tether)))["net-ifaces"].status
        is Status.FAIL
    )


def test_a_second_default_route_fails_with_both_routes(policy: Policy) -> None:
    second = Route(
        destination="0.0.0.0/0", gateway="192.168.43.1", interface="usb0", metric=50, family="ipv4"
    )
    finding = findings_of(policy, with_network(routes=(machines.DEFAULT_ROUTE, second)))[
        "net-routes"
    ]
    assert finding.status is Status.FAIL
    assert "192.168.43.1" in finding.message.en and "10.12.3.1" in finding.message.en
    assert len(finding.evidence["default_routes"]) == 2


def test_a_gateway_outside_the_allowed_networks_fails(policy: Policy) -> None:
    route = dataclasses.replace(machines.DEFAULT_ROUTE, gateway="192.168.1.1")
    finding = findings_of(policy, with_network(routes=(route,)))["net-routes"]
    assert finding.status is Status.FAIL
    assert "192.168.1.1" in finding.message.en


def test_an_established_connection_to_a_public_address_fails(policy: Policy) -> None:
    finding = findings_of(policy, with_network(connections=(machines.EXTERNAL_CONNECTION,)))[
        "net-conns"
    ]
    assert finding.status is Status.FAIL
    assert finding.evidence["connections"][0]["process"] == "chrome"


def test_a_dns_server_outside_the_allowed_networks_fails(policy: Policy) -> None:
    finding = findings_of(policy, with_network(dns_servers=("10.12.0.53", "114.114.114.114")))[
        "net-dns"
    ]
    assert finding.status is Status.FAIL
    assert finding.evidence["outside"] == ["114.114.114.114"]


def test_a_probe_that_reached_its_target_fails_with_timing(policy: Policy) -> None:
    finding = findings_of(policy, office_pc(), probe(ProbeOutcome.REACHED, verified=True))[
        "net-probes"
    ]
    assert finding.status is Status.FAIL
    assert finding.evidence["probes"][0] == {
        "probe": "p1",
        "kind": "tcp",
        "target": "203.0.113.9:443",
        "outcome": "reached",
        "verified": True,
        "elapsed_ms": 12.5,
        "detail": "detail",
    }


def test_an_unverified_answer_does_not_count_as_the_internet(policy: Policy) -> None:
    finding = findings_of(policy, office_pc(), probe(ProbeOutcome.UNVERIFIED))["net-probes"]
    assert finding.status is Status.PASS
    assert "without a valid signature" in finding.message.en


def test_probes_that_did_not_run_are_an_error(policy: Policy) -> None:
    results = evaluate(policy, office_pc(), "linux", NOW, {})
    assert {f.rule: f for f in results}["net-probes"].status is Status.ERROR


def test_missing_asset_fields_fail_and_are_named_in_both_languages(policy: Policy) -> None:
    pc = dataclasses.replace(
        office_pc(), host=machines.host_facts(AssetFields(machine_number="BGS-017"))
    )
    finding = findings_of(policy, pc)["asset-fields"]
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == ["responsible_person", "department"]
    assert "Person responsible" in finding.message.en and "责任人" in finding.message.zh


def test_a_failed_collector_turns_only_its_own_rules_into_errors(policy: Policy) -> None:
    pc = dataclasses.replace(
        office_pc(),
        network=None,
        errors={"network": "permission denied"},
        causes={"network": Cause.PERMISSION_DENIED},
    )
    found = findings_of(policy, pc)
    errors = {rule for rule, f in found.items() if f.status is Status.ERROR}
    assert errors == {"net-ifaces", "net-routes", "net-conns", "net-dns"}
    assert failing(found) == set()
    assert found["net-ifaces"].evidence == {
        "collector": "network",
        "error": "permission denied",
        "cause": "permission_denied",
    }

"""The shipped example policies and the JSON Schema that editors use to write them."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from agent.policy.loader import load_policy
from agent.policy.model import (
    ForbiddenSoftwareRule,
    InternetCheck,
    InternetMode,
    MediaCheck,
    MediaMode,
    Policy,
    RequiredSoftwareRule,
    Severity,
)
from agent.policy.schema import policy_schema

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
SCHEMA_FILE = POLICIES / "policy.schema.json"
EXAMPLES = sorted(POLICIES.glob("*.yaml"))

BENIGN_PACKAGES = [
    "Microsoft Office Professional Plus 2019",
    "WPS Office",
    "Google Chrome",
    "Mozilla Firefox (x64 zh-CN)",
    "7-Zip 23.01 (x64)",
    "福昕PDF阅读器",
    "腾讯会议",
    "TortoiseGit 2.15.0.0 (64 bit)",
    "Microsoft Edge",
]
BENIGN_PROCESSES = [
    "explorer.exe",
    "chrome.exe",
    "WINWORD.EXE",
    "svchost.exe",
    "TortoiseGitProc.exe",
    "steamwebhelper.exe",
    "systemd",
]


def example(name: str) -> Policy:
    return load_policy(POLICIES / f"{name}.yaml")


def rule(policy: Policy, rule_id: str) -> Any:
    (found,) = [candidate for candidate in policy.all_rules() if candidate.id == rule_id]
    return found


def matches_package(
    rule: RequiredSoftwareRule | ForbiddenSoftwareRule, name: str, publisher: str = ""
) -> bool:
    """Whether one of the rule's matchers matches a package: all of its patterns must."""
    for matcher in rule.match:
        pairs = [(matcher.name, name), (matcher.publisher, publisher), (matcher.version, "")]
        if all(pattern.search(value) for pattern, value in pairs if pattern is not None):
            return True
    return False


def matches_process(patterns: Any, process: str) -> bool:
    return any(pattern.search(process) for pattern in patterns)


# --- every example ----------------------------------------------------------------------


def test_the_three_examples_are_shipped() -> None:
    assert [path.stem for path in EXAMPLES] == [
        "internet-cafe",
        "internet-office",
        "intranet-office",
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_policy_loads(path: Path) -> None:
    policy = load_policy(path)

    assert policy.id == path.stem
    assert policy.title.zh and policy.title.en
    assert policy.description.zh and policy.description.en


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_points_editors_at_the_schema(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]

    assert first_line == "# yaml-language-server: $schema=policy.schema.json"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_the_plain_yaml_of_every_example_passes_the_committed_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))

    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_no_forbidden_rule_of_an_example_catches_ordinary_office_software(path: Path) -> None:
    for forbidden in load_policy(path).forbidden_software:
        for package in BENIGN_PACKAGES:
            assert not matches_package(forbidden, package), (forbidden.id, package)
        for process in BENIGN_PROCESSES:
            assert not matches_process(forbidden.processes, process), (forbidden.id, process)


# --- what each example promises ---------------------------------------------------------


def test_the_intranet_example_forbids_the_internet_by_every_means() -> None:
    policy = example("intranet-office")
    internet = policy.internet

    assert internet is not None
    assert internet.mode is InternetMode.FORBIDDEN
    assert ipaddress.ip_network("10.0.0.0/8") in internet.allowed_networks
    assert ipaddress.ip_network("192.168.0.0/16") in internet.allowed_networks
    checks = {internet_rule.check: internet_rule for internet_rule in internet.rules}
    assert set(checks) == set(InternetCheck)
    kinds = {probe.kind: probe.target for probe in checks[InternetCheck.PROBES].probes}
    assert kinds["https"].startswith("https://")
    assert kinds["tcp"].endswith(":53")
    assert set(checks[InternetCheck.INTERFACES].forbidden_kinds) == {
        "wireless",
        "wwan",
        "usb-tether",
    }
    assert checks[InternetCheck.DEFAULT_ROUTES].max_default_routes == 1
    assert "responder_key:" in (POLICIES / "intranet-office.yaml").read_text(encoding="utf-8")


def test_the_intranet_example_allows_only_registered_sticks_and_no_phones() -> None:
    media = example("intranet-office").removable_media

    assert media is not None
    assert media.mode is MediaMode.REGISTERED_ONLY
    assert len(media.registered) == 2
    checks = {media_rule.check: media_rule for media_rule in media.rules}
    assert set(checks) == set(MediaCheck)
    assert checks[MediaCheck.STORAGE_HISTORY].lookback_seconds == 30 * 86400


def test_the_intranet_example_requires_the_security_clients_on_windows_and_linux() -> None:
    policy = example("intranet-office")

    registration = rule(policy, "terminal-registration-client")
    audit = rule(policy, "terminal-audit-client")
    confidentiality = rule(policy, "confidentiality-check-tool")
    for required in (registration, audit, confidentiality):
        assert required.platforms == frozenset({"windows", "linux"})
    assert matches_package(registration, "北信源内网安全管理系统")
    assert matches_package(registration, "EDP Agent", "北京北信源软件股份有限公司")
    assert matches_package(audit, "奇安信天擎终端安全管理系统")
    assert matches_package(confidentiality, "计算机终端保密检查系统", "中孚信息股份有限公司")
    assert registration.must_run and audit.must_run
    assert confidentiality.must_run is None
    assert rule(policy, "asset-fields-complete").required_fields == (
        "machine_number",
        "responsible_person",
        "department",
        "classification",
        "purpose",
    )


def test_the_intranet_example_catches_remote_control_and_proxy_tools() -> None:
    policy = example("intranet-office")
    remote = rule(policy, "no-remote-control")
    proxy = rule(policy, "no-proxy-tools")

    for package in ["TeamViewer", "AnyDesk", "向日葵远程控制", "ToDesk", "RustDesk", "TightVNC"]:
        assert matches_package(remote, package), package
    for process in ["TeamViewer.exe", "SunloginClient.exe", "winvnc.exe", "rustdesk"]:
        assert matches_process(remote.processes, process), process
    for package in ["Clash for Windows", "Clash Verge", "v2rayN", "Shadowsocks", "Tor Browser"]:
        assert matches_package(proxy, package), package
    for process in ["clash-verge.exe", "v2rayN.exe", "xray.exe", "tor.exe", "sslocal"]:
        assert matches_process(proxy.processes, process), process


def test_the_internet_office_example_flags_usb_storage_at_low_severity() -> None:
    policy = example("internet-office")

    assert policy.internet is not None and policy.internet.mode is InternetMode.ALLOWED
    assert policy.removable_media is not None
    assert policy.removable_media.mode is MediaMode.FORBID
    (usb,) = policy.removable_media.rules
    assert (usb.check, usb.severity) == (MediaCheck.STORAGE_ATTACHED, Severity.LOW)


def test_the_internet_office_example_catches_games_stock_trading_and_proxies() -> None:
    policy = example("internet-office")

    games = rule(policy, "no-games")
    stocks = rule(policy, "no-stock-trading")
    proxy = rule(policy, "no-proxy-tools")
    for package in ["Steam", "WeGame", "Epic Games Launcher", "英雄联盟"]:
        assert matches_package(games, package), package
    for package in ["同花顺", "东方财富", "大智慧365", "通达信金融终端"]:
        assert matches_package(stocks, package), package
    assert matches_process(stocks.processes, "hexin.exe")
    assert matches_process(stocks.processes, "TdxW.exe")
    for package in ["Clash for Windows", "V2RayN", "ShadowsocksR"]:
        assert matches_package(proxy, package), package
    antivirus = rule(policy, "antivirus")
    assert matches_package(antivirus, "火绒安全软件")
    assert matches_package(antivirus, "360安全卫士")
    assert matches_process(antivirus.must_run.processes, "HipsDaemon.exe")


def test_the_internet_cafe_example_requires_audit_and_billing_running() -> None:
    policy = example("internet-cafe")

    audit = rule(policy, "audit-client")
    billing = rule(policy, "billing-client")
    assert matches_package(audit, "任子行上网行为审计客户端")
    assert matches_package(billing, "万象网管客户端")
    assert matches_package(billing, "Pubwin2015客户端")
    assert audit.must_run and billing.must_run
    crack = rule(policy, "no-billing-cracks")
    assert matches_package(crack, "网吧计费破解工具")
    assert matches_package(rule(policy, "no-proxy-tools"), "CCProxy")


# --- the schema -------------------------------------------------------------------------


def test_the_committed_schema_is_what_the_schema_module_prints() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    printed = subprocess.run(
        [sys.executable, "-m", "agent.policy.schema"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout

    assert printed == SCHEMA_FILE.read_bytes(), (
        "policies/policy.schema.json is stale: run "
        "`python -m agent.policy.schema > policies/policy.schema.json`"
    )
    assert json.loads(printed) == policy_schema()


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = policy_schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def property_schemas(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema under a `properties` keyword, with a readable location.

    Conditions (`if`) are left out: they test values and never reach an editor's help.
    """
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            yield f"{where}/properties/{name}", child
        for key, child in node.items():
            if key != "if":
                yield from property_schemas(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from property_schemas(child, f"{where}/{index}")


def test_every_property_documents_itself_with_a_title_and_a_description() -> None:
    undocumented = [
        where
        for where, schema in property_schemas(policy_schema())
        if "not" not in schema and not (schema.get("title") and schema.get("description"))
    ]

    assert undocumented == []


def schemas_with_examples(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "examples" in node:
            yield node
        for child in node.values():
            yield from schemas_with_examples(child)
    elif isinstance(node, list):
        for child in node:
            yield from schemas_with_examples(child)


def test_every_example_in_the_schema_is_valid_where_it_stands() -> None:
    schema = policy_schema()
    root = jsonschema.Draft202012Validator(schema)
    documented = list(schemas_with_examples(schema))

    assert len(documented) > 30
    for subschema in documented:
        for sample in subschema["examples"]:
            errors = list(root.evolve(schema=subschema).iter_errors(sample))
            assert errors == [], (sample, [error.message for error in errors])


def test_the_schema_refuses_a_key_from_another_check_with_a_message_editors_show() -> None:
    schema = policy_schema()
    probes_rule = {
        "id": "r",
        "severity": "high",
        "title": {"zh": "规则", "en": "Rule"},
        "check": "interfaces",
        "forbidden_kinds": ["wireless"],
        "max": 1,
    }
    document = {
        "id": "p",
        "version": "1",
        "title": {"zh": "策略", "en": "Policy"},
        "internet": {"mode": "forbidden", "rules": [probes_rule]},
    }

    (error,) = jsonschema.Draft202012Validator(schema).iter_errors(document)

    assert list(error.absolute_path) == ["internet", "rules", 0, "max"]
    assert error.schema["errorMessage"] == (
        "'max' does not apply when check is interfaces; it belongs to check: default_routes"
    )

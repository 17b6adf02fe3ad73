"""`custos-agent check`, `inventory` and `policy validate` as a user runs them: real processes."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import (
    FIXTURES,
    POLICIES,
    ROOT,
    agent_argv,
    agent_env,
    run_agent,
    run_agent_json,
)

# Probes-free, so running it on this machine sends nothing anywhere.
LOCAL_POLICY = """
id: local-only
version: "2026.11"
title: {zh: 本机检查, en: Local checks}
required_software:
  - id: has-bash
    severity: high
    title: {zh: 必须安装 bash, en: bash installed}
    match: {name: '^bash$'}
  - id: has-vrv
    severity: high
    title: {zh: 必须安装北信源, en: VRV client installed}
    remedy: {zh: 请安装北信源客户端, en: Install the VRV client}
    match: {name: '^vrvedp'}
forbidden_software:
  - id: no-clash
    severity: high
    title: {zh: 禁止代理工具, en: No proxy tools}
    match: {name: '^clash'}
asset:
  - id: asset-fields
    severity: medium
    title: {zh: 资产登记, en: Asset register}
    required_fields: [machine_number, responsible_person]
"""


@pytest.fixture
def local_policy(tmp_path: Path) -> Path:
    path = tmp_path / "local.yaml"
    path.write_text(LOCAL_POLICY, encoding="utf-8")
    return path


def test_check_json_follows_the_contract(local_policy: Path, agent_config: Path) -> None:
    status, document = run_agent_json(
        "--config",
        str(agent_config),
        "check",
        "--policy",
        str(local_policy),
        "--format",
        "json",
        "--lang",
        "en",
    )
    assert status == 1  # the VRV client is not installed here
    assert {"host", "policy", "findings", "summary"} <= set(document)
    assert document["policy"]["id"] == "local-only" and document["policy"]["version"] == "2026.11"
    import hashlib

    assert document["policy"]["sha256"] == hashlib.sha256(local_policy.read_bytes()).hexdigest()
    for finding in document["findings"]:
        assert {"rule", "category", "severity", "status", "message", "evidence"} <= set(finding)
        assert finding["status"] in {"pass", "fail", "error", "not_applicable"}
    results = {f["rule"]: f["status"] for f in document["findings"]}
    assert results == {
        "has-bash": "pass",
        "has-vrv": "fail",
        "no-clash": "pass",
        "asset-fields": "pass",
    }
    assert document["summary"]["compliant"] is False
    assert document["summary"]["failed"] == 1 and document["summary"]["passed"] == 3
    assert document["host"]["asset"]["responsible_person"] == "张三"


def test_a_compliant_machine_exits_zero(tmp_path: Path, agent_config: Path) -> None:
    policy = tmp_path / "ok.yaml"
    policy.write_text("\n".join(LOCAL_POLICY.splitlines()[:9]) + "\n", encoding="utf-8")
    completed = run_agent(
        "--config", str(agent_config), "check", "--policy", str(policy), "--lang", "en"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Compliant: all 1 items passed" in completed.stdout


def test_the_text_sheet_in_chinese_says_what_failed_and_what_to_do(
    local_policy: Path, agent_config: Path
) -> None:
    completed = run_agent(
        "--config", str(agent_config), "check", "--policy", str(local_policy), "--lang", "zh"
    )
    assert completed.returncode == 1
    sheet = completed.stdout
    assert "终端合规自查表" in sheet
    assert "机器编号" in sheet and "BJ-2026-0417" in sheet and "张三" in sheet
    assert "✘ 不合格" in sheet and "必须安装北信源" in sheet and "未安装" in sheet
    assert "需要整改" in sheet and "请安装北信源客户端" in sheet
    assert "1. 未安装：必须安装北信源" in sheet  # what is wrong, not the requirement
    assert "不合规：1 项不合格" in sheet
    assert "local-only 2026.11" in sheet


def test_the_language_follows_a_chinese_locale(local_policy: Path) -> None:
    completed = run_agent(
        "check", "--policy", str(local_policy), env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""}
    )
    assert "终端合规自查表" in completed.stdout
    english = run_agent(
        "check", "--policy", str(local_policy), env={"LANG": "en_US.UTF-8", "LC_ALL": ""}
    )
    assert "Endpoint compliance self-inspection" in english.stdout


CHINESE = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ENGLISH = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
TAB_SLIP = FIXTURES / "policies" / "broken" / "yaml-tab-indentation.yaml"


def test_policy_validate_speaks_the_locales_language_and_lang_overrides_it() -> None:
    shipped = POLICIES / "intranet-office.yaml"

    chinese = run_agent("policy", "validate", str(shipped), str(TAB_SLIP), env=CHINESE)
    english = run_agent(
        "policy", "validate", str(shipped), str(TAB_SLIP), "--lang", "en", env=CHINESE
    )

    assert chinese.returncode == english.returncode == 2
    assert chinese.stdout == f"{shipped}：有效\n"
    assert chinese.stderr == (
        f"{TAB_SLIP}:9: <document>: 这一行有制表符（Tab）：YAML 只能用空格缩进，请把制表符换成空格\n"
    )
    assert english.stdout == f"{shipped}: valid\n"
    assert english.stderr == (
        f"{TAB_SLIP}:9: <document>: a tab character: indent with spaces "
        "(YAML does not allow tabs here)\n"
    )


def test_check_explains_a_broken_policy_in_the_users_language(agent_config: Path) -> None:
    slip = ["--config", str(agent_config), "check", "--policy", str(TAB_SLIP)]

    chinese = run_agent(*slip, env=CHINESE)
    english = run_agent(*slip, env=ENGLISH)

    assert chinese.returncode == english.returncode == 2
    assert chinese.stdout == english.stdout == ""
    assert chinese.stderr.startswith(f"{TAB_SLIP}:9: <document>: 这一行有制表符（Tab）")
    assert english.stderr.startswith(f"{TAB_SLIP}:9: <document>: a tab character")


def test_status_and_inventory_text_follow_the_locale(agent_config: Path) -> None:
    config = ["--config", str(agent_config)]

    status = run_agent(*config, "status", "--format", "text", env=CHINESE)
    status_en = run_agent(*config, "status", "--format", "text", "--lang", "en", env=CHINESE)
    inventory = run_agent("inventory", "--format", "text", env=CHINESE)

    assert status.returncode == status_en.returncode == inventory.returncode == 0
    assert status.stdout.splitlines()[0] == "已注册：       否"
    assert "待发送报告：   0" in status.stdout
    assert status_en.stdout.splitlines()[0] == "enrolled:      no"
    assert inventory.stdout.startswith("计算机名")
    assert "\n已安装软件（" in inventory.stdout and "\n网络接口\n" in inventory.stdout
    assert "Software (" not in inventory.stdout


def test_a_language_in_the_config_wins_over_the_locale(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("lang: zh\n", encoding="utf-8")

    completed = run_agent("--config", str(config), "policy", "validate", str(TAB_SLIP), env=ENGLISH)

    assert "这一行有制表符（Tab）" in completed.stderr


def test_missing_asset_fields_fail_without_a_config(local_policy: Path, tmp_path: Path) -> None:
    status, document = run_agent_json(
        "--state-dir",
        str(tmp_path / "s"),
        "check",
        "--policy",
        str(local_policy),
        "--format",
        "json",
    )
    assert {f["rule"]: f["status"] for f in document["findings"]}["asset-fields"] == "fail"
    assert status == 1


def test_a_broken_policy_exits_2_with_file_line_and_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        LOCAL_POLICY.replace(
            "severity: high\n    title: {zh: 必须安装 bash",
            "severity: urgent\n    title: {zh: 必须安装 bash",
        ),
        encoding="utf-8",
    )
    completed = run_agent("check", "--policy", str(broken))
    assert completed.returncode == 2
    assert f"{broken}:7: required_software[0].severity:" in completed.stderr
    assert completed.stdout == ""


def test_a_missing_policy_file_exits_2(tmp_path: Path) -> None:
    completed = run_agent("check", "--policy", str(tmp_path / "nope.yaml"))
    assert completed.returncode == 2
    assert "nope.yaml" in completed.stderr


def test_a_bad_agent_config_exits_2_naming_the_key(tmp_path: Path, local_policy: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("asset:\n  machine_nubmer: X\n", encoding="utf-8")
    completed = run_agent("--config", str(config), "check", "--policy", str(local_policy))
    assert completed.returncode == 2
    assert "asset.machine_nubmer: unknown asset field" in completed.stderr


def test_policy_validate_accepts_every_shipped_policy() -> None:
    files = sorted(str(p) for p in POLICIES.glob("*.yaml"))
    assert len(files) >= 3
    completed = run_agent("policy", "validate", *files)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count(": valid") == len(files)


def test_policy_validate_rejects_a_broken_policy_with_file_line_key_reason() -> None:
    broken = sorted((FIXTURES / "policies" / "broken").glob("*.yaml"))[0]
    completed = run_agent("policy", "validate", str(broken))
    assert completed.returncode == 2
    first = completed.stderr.splitlines()[0]
    file_part, line_part, _rest = first.split(":", 2)
    assert file_part == str(broken) and line_part.isdigit()


def test_inventory_json_has_the_contract_keys() -> None:
    status, document = run_agent_json("inventory", "--format", "json")
    assert status == 0
    assert {
        "host",
        "software",
        "processes",
        "services",
        "media",
        "network",
        "collected_at",
        "agent_version",
    } <= set(document)
    assert document["host"]["platform"] == "linux"
    assert len(document["software"]) > 50


def test_inventory_text_is_readable() -> None:
    completed = run_agent("inventory", "--format", "text", "--lang", "en")
    assert completed.returncode == 0
    assert "Software (" in completed.stdout and "Interfaces" in completed.stdout


@pytest.mark.parametrize(
    "args",
    [("inventory",), ("inventory", "--format", "text"), ("policy", "schema")],
    ids=" ".join,
)
def test_a_reader_that_stops_reading_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        agent_argv(*args), stdout=write_end, stderr=subprocess.PIPE, env=agent_env(), cwd=ROOT
    )
    # Nobody reads: the agent's first write meets a pipe without a reader (EPIPE), every time.
    os.close(write_end)
    os.close(read_end)
    _out, err = process.communicate(timeout=120)

    assert err.decode() == ""
    assert process.returncode == 128 + signal.SIGPIPE


def test_piping_into_head_shows_the_first_line_and_no_traceback() -> None:
    agent = " ".join(shlex.quote(part) for part in agent_argv())
    completed = subprocess.run(
        ["sh", "-c", f"{agent} policy schema | head -1; {agent} inventory | head -1"],
        capture_output=True,
        text=True,
        env=agent_env(),
        cwd=ROOT,
        timeout=120,
        check=False,
    )

    assert completed.stdout.splitlines() == ["{", completed.stdout.splitlines()[1]]
    assert completed.stdout.splitlines()[1].startswith('{"host": ')
    assert completed.stderr == ""


def test_inventory_loads_no_http_crypto_yaml_or_schema_library() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from agent.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['inventory'])\n"
        "heavy = [m for m in ('httpx', 'cryptography', 'yaml', 'jsonschema', 'dns') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=agent_env(),
        cwd=ROOT,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_check_output_is_valid_json_even_with_hostile_strings(
    tmp_path: Path, agent_config: Path
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        LOCAL_POLICY.replace("必须安装 bash", '必须安装 "bash" <script>\u202e'), encoding="utf-8"
    )
    _status, document = run_agent_json(
        "--config",
        str(agent_config),
        "check",
        "--policy",
        str(policy),
        "--format",
        "json",
        "--lang",
        "zh",
    )
    assert document["findings"][0]["title"] == '必须安装 "bash" <script>\u202e'
    json.dumps(document)

"""A rule that could not be checked says why, and its advice fits the cause (issue 8 §4).

"Run as administrator" is the advice when permission was refused, and only then; a missing
command, a PC that keeps no log at all or a source that failed otherwise each get their own
words. The causes come from real failures: commands run through the real runner with a path
that does not exist or a file that may not be executed, and files an unprivileged user may not
read (as `nobody` through setpriv when the tests run as root).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from agent.collectors import collect_inventory
from agent.collectors.base import CollectContext
from agent.errors import Cause, CommandError
from agent.evaluation import CheckResult, Finding, Status, evaluate
from agent.facts import AssetFields
from agent.output.sheet import render_sheet
from agent.platforms.base import run_command
from agent.platforms.linux import LinuxAdapter
from agent.platforms.linux.kernel_log import read_media_history
from agent.policy.loader import load_policy_bytes
from agent.policy.model import Policy
from tests.conftest import ROOT, run_agent
from tests.machines import NOW, office_pc

POLICY_YAML = """
id: causes
version: "1"
title: {zh: 原因, en: Causes}
required_software:
  - id: audit-client
    severity: critical
    title: {zh: 审计客户端, en: Audit client}
    remedy: {zh: 请安装并启动审计客户端, en: Install and start the audit client}
    match: {name: '^vrvedp'}
    must_run: {services: ['^vrvedp$']}
removable_media:
  mode: forbid
  rules:
    - id: usb-history
      severity: high
      title: {zh: 移动存储接入记录, en: Removable-media history}
      check: storage_history
"""
AS_ADMINISTRATOR = ("as administrator", "以管理员身份（Linux、macOS 上为 root）重新运行检查")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_bytes(POLICY_YAML.encode(), "causes.yaml")


def missing_commands(argv: Sequence[str], timeout: float = 10.0) -> str:
    """The real runner, on a PC where no command is installed."""
    return run_command(["/nonexistent/bin/" + argv[0], *argv[1:]], timeout)


def says_run_as_administrator(finding: Finding) -> bool:
    assert finding.remedy is not None
    return AS_ADMINISTRATOR[0] in finding.remedy.en or AS_ADMINISTRATOR[1] in finding.remedy.zh


def findings_of(policy: Policy, **changes: object) -> dict[str, Finding]:
    inventory = dataclasses.replace(office_pc(), **changes)  # type: ignore[arg-type]
    return {f.rule: f for f in evaluate(policy, inventory, "linux", NOW, {})}


# --- the runner classifies real failures ---------------------------------------------------


def test_a_command_that_is_not_installed_is_a_missing_command() -> None:
    with pytest.raises(CommandError) as caught:
        missing_commands(["journalctl", "-n", "1"])
    assert caught.value.cause is Cause.COMMAND_MISSING


def test_a_command_this_user_may_not_run_is_a_permission_problem(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\necho hello\n", encoding="utf-8")
    tool.chmod(0o644)  # nobody, root included, may execute a file without any x bit
    with pytest.raises(CommandError) as caught:
        run_command([str(tool)])
    assert caught.value.cause is Cause.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("stderr", "cause"),
    [
        ("Failed to list units: Access denied", Cause.PERMISSION_DENIED),
        ("rpm: error: cannot open Packages database: Permission denied", Cause.PERMISSION_DENIED),
        ("Failed to connect to bus: No such file or directory", Cause.FAILED),
    ],
)
def test_a_command_that_fails_is_a_permission_problem_only_when_it_says_so(
    tmp_path: Path, stderr: str, cause: Cause
) -> None:
    tool = tmp_path / "tool"
    tool.write_text(f"#!/bin/sh\necho '{stderr}' >&2\nexit 1\n", encoding="utf-8")
    tool.chmod(0o755)
    with pytest.raises(CommandError) as caught:
        run_command([str(tool)])
    assert caught.value.cause is cause


def test_a_collector_whose_command_is_missing_records_that_cause(tmp_path: Path) -> None:
    context = CollectContext(LinuxAdapter(tmp_path, missing_commands), AssetFields(), NOW)
    inventory = collect_inventory(context, ["services"])
    assert inventory.services is None
    assert inventory.causes == {"services": Cause.COMMAND_MISSING}
    assert "command not found" in inventory.errors["services"]


# --- the removable-media history: no log at all, or logs this user may not read -------------


def test_a_pc_without_journalctl_or_log_files_has_no_log_source(tmp_path: Path) -> None:
    history = read_media_history(None, missing_commands, tmp_path / "var" / "log", [tmp_path])
    assert history.cause is Cause.NO_SOURCE
    assert "command not found" in history.error and "none of kern.log*" in history.error


@pytest.fixture
def unreadable_logs() -> Iterator[Path]:
    """A root filesystem whose journal and kern.log exist but are root's alone (0600)."""
    top = Path(tempfile.mkdtemp(prefix="custos-causes-"))
    top.chmod(0o755)  # `nobody` may look around, not read the logs
    journal = top / "var" / "log" / "journal" / "0123456789abcdef"
    journal.mkdir(parents=True)
    for path in (journal / "system.journal", top / "var" / "log" / "kern.log"):
        path.write_bytes(b"kernel: usb 1-1: new high-speed USB device number 2 using xhci_hcd\n")
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    for directory in (top / "var", top / "var" / "log", journal.parent, journal):
        directory.chmod(0o755)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def _history_as_an_unprivileged_user(root: Path) -> dict[str, str]:
    """read_media_history in a child process of a user who is not root: journalctl shows
    such a user nothing of the kernel (its answer is empty), the files tell why."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from agent.platforms.linux.kernel_log import read_media_history\n"
        "root = Path(sys.argv[1])\n"
        "history = read_media_history(None, lambda argv, timeout=10.0: '',\n"
        "    root / 'var' / 'log', [root / 'var' / 'log' / 'journal'])\n"
        "print(json.dumps({'cause': history.cause.value, 'error': history.error}))\n"
    )
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop privileges")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import agent.platforms.linux.kernel_log"],
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd="/",
            timeout=60,
            check=False,
        )
        if probe.returncode != 0:  # e.g. a checkout under /root (0700), as in CI's fresh roots
            pytest.skip(f"user 65534 cannot import Custos from {ROOT}")
    completed = subprocess.run(
        [*prefix, sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd="/",
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, str] = json.loads(completed.stdout)
    return answer


def test_logs_this_user_may_not_read_are_a_permission_problem(unreadable_logs: Path) -> None:
    answer = _history_as_an_unprivileged_user(unreadable_logs)
    assert answer["cause"] == "permission_denied"
    assert "not readable by this user" in answer["error"]
    assert "kern.log: PermissionError" in answer["error"]


# --- what the user is told -----------------------------------------------------------------


def test_the_advice_says_run_as_administrator_only_when_permission_was_refused(
    policy: Policy,
) -> None:
    refused = findings_of(
        policy,
        services=None,
        errors={"services": "Access denied"},
        causes={"services": Cause.PERMISSION_DENIED},
    )["audit-client"]
    missing = findings_of(
        policy,
        services=None,
        errors={"services": "systemctl list-units: command not found"},
        causes={"services": Cause.COMMAND_MISSING},
    )["audit-client"]

    assert refused.status is Status.ERROR and missing.status is Status.ERROR
    assert refused.evidence["cause"] == "permission_denied"
    assert "permission denied" in refused.message.en and "权限不足" in refused.message.zh
    assert says_run_as_administrator(refused)
    assert missing.evidence["cause"] == "command_missing"
    assert "a program needed to read it is missing" in missing.message.en
    assert "本机缺少读取所需的程序" in missing.message.zh
    # The source's own English words are technical detail, not part of the message.
    assert missing.evidence["error"] == "systemctl list-units: command not found"
    assert "command not found" not in missing.message.zh + missing.message.en
    assert not says_run_as_administrator(missing)
    # An error's remedy is the cause's advice, not the rule's (which fixes a violation).
    assert missing.remedy is not None and "Install and start" not in missing.remedy.en


def test_a_pc_with_no_log_source_is_told_so_not_to_become_administrator(
    policy: Policy, tmp_path: Path
) -> None:
    history = read_media_history(None, missing_commands, tmp_path / "var" / "log", [tmp_path])
    media = dataclasses.replace(
        office_pc().media,  # type: ignore[arg-type]
        history=(),
        history_error=history.error,
        history_cause=history.cause,
    )
    finding = findings_of(policy, media=media)["usb-history"]
    assert finding.status is Status.ERROR
    assert "this PC keeps no such record" in finding.message.en
    assert "本机没有这项记录" in finding.message.zh
    assert not says_run_as_administrator(finding)


def test_an_unreadable_software_list_leaves_installed_and_running_unknown(
    policy: Policy,
) -> None:
    finding = findings_of(
        policy,
        software=None,
        errors={"software": "cannot read /var/lib/dpkg/status: Permission denied"},
        causes={"software": Cause.PERMISSION_DENIED},
    )["audit-client"]
    assert finding.status is Status.ERROR
    assert finding.evidence["installed"] is None and finding.evidence["running"] is None


def test_the_sheet_gives_each_unchecked_item_the_advice_for_its_own_cause(
    policy: Policy,
) -> None:
    inventory = dataclasses.replace(
        office_pc(),
        services=None,
        errors={"services": "Access denied"},
        causes={"services": Cause.PERMISSION_DENIED},
        media=dataclasses.replace(
            office_pc().media,  # type: ignore[arg-type]
            history=(),
            history_error="journal: no journal files; log files: none of kern.log*",
            history_cause=Cause.NO_SOURCE,
        ),
    )
    findings = evaluate(policy, inventory, "linux", NOW, {})
    result = CheckResult(policy=policy, inventory=inventory, findings=findings, checked_at=NOW)

    sheet = render_sheet(result, "zh")

    unchecked = sheet.split("未能检查\n", 1)[1].split("\n\n", 1)[0]
    assert unchecked.count("处理办法") == 2
    assert unchecked.count(AS_ADMINISTRATOR[1]) == 1  # the refused one, not the missing log
    assert "无法读取移动存储接入记录：本机没有这项记录" in unchecked
    assert "开启这项记录（如系统日志）" in unchecked
    assert "技术细节：journal: no journal files" in unchecked
    english = render_sheet(result, "en")
    assert english.count("Run the check again as administrator") == 1
    # Not a violation, and not compliant either: the verdict names the state.
    assert "结论：未能检查，不计为合规：2 项未能检查" in sheet
    assert "Result: Could not be checked, so not compliant" in english


def test_check_names_a_missing_command_and_does_not_ask_for_administrator_rights(
    tmp_path: Path, agent_config: Path
) -> None:
    """The real `custos-agent check` on a PC where systemctl cannot be found."""
    policy = tmp_path / "services.yaml"
    policy.write_text(
        """
id: services
version: "1"
title: {zh: 服务, en: Services}
required_software:
  - id: shell-service
    severity: high
    title: {zh: 必须运行 shell 服务, en: A shell service runs}
    match: {name: '^bash$'}
    must_run: {services: ['^custos-test-shell$']}
""",
        encoding="utf-8",
    )
    completed = run_agent(
        "--config",
        str(agent_config),
        "check",
        "--policy",
        str(policy),
        "--lang",
        "zh",
        env={"PATH": str(tmp_path / "empty-path")},
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    sheet = completed.stdout
    assert "未能检查" in sheet and "本机缺少读取所需的程序" in sheet
    assert "command not found" in sheet
    assert AS_ADMINISTRATOR[1] not in sheet

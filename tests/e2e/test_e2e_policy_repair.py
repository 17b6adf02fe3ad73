"""A policy whose regex backtracks catastrophically reached an agent (an older agent and
server accepted it). The agent must still learn of the fixed policy from a real server and
recover: a cycle fetches policy and commands before it evaluates."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import E2E_POLICY, UNIT, AgentProcess, ServerProcess, read_log, wait_for

pytestmark = [pytest.mark.server, pytest.mark.slow]

# A running program whose name this pattern needs centuries to reject (Python's re).
REDOS_POLICY = E2E_POLICY.replace(
    "asset:",
    "forbidden_software:\n"
    "  - id: no-redos\n"
    "    severity: high\n"
    "    title: {zh: 正则, en: Regex}\n"
    "    processes: ['^(\\S*?-?)*\\d$']\n"
    "asset:",
)
TARGET_NAME = "custos-redos-target-" + "a" * 30 + "x"


@pytest.fixture
def long_named_process(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A program whose executable's name is long, without a final digit."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    program = tmp_path / TARGET_NAME
    shutil.copy(sleep, program)
    with subprocess.Popen([str(program), "300"]) as process:
        try:
            yield process
        finally:
            process.kill()


def test_an_agent_holding_a_catastrophic_policy_gets_the_fixed_one_and_recovers(
    server: ServerProcess,
    make_agent: Callable[[str], AgentProcess],
    tmp_path: Path,
    long_named_process: subprocess.Popen[bytes],
) -> None:
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(E2E_POLICY.replace("id: e2e-test", "id: fixed-policy"), encoding="utf-8")
    server.cli("policy", "add", str(fixed), "--unit", UNIT)
    server.start()
    agent = make_agent("pc-redos")
    agent.enroll(server.url, server.token(uses=1))
    agent.hold_server_policy(REDOS_POLICY, version="redos")

    agent.start()

    def fixed_report_arrived() -> bool:
        rows = server.database.rows(
            "SELECT r.policy_id FROM fleet_report r JOIN fleet_host h ON r.host_id = h.id "
            "WHERE h.host_id = ?",
            agent.host_id,
        )
        return ("fixed-policy",) in rows

    try:
        wait_for("a report checked against the fixed policy", fixed_report_arrived, 90)
    except BaseException:
        print(read_log(agent.log))
        raise
    assert agent.status()["policy"]["id"] == "fixed-policy"
    agent.terminate()  # exits 0 within the test's patience

"""The service loop: startup check, schedule, triggers, retries with backoff, SIGTERM, and
flat memory; in-process where timing is measured, as a real `custos-agent run` process
where the operating system's signals are."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from agent.service import Agent, ServiceLoop, pick_trigger
from agent.transport import Backoff
from agent.triggers import TriggerHub, start_triggers
from tests.agent_service.fakeserver import FakeServer
from tests.agent_service.helpers import AgentSetup, call_cli
from tests.conftest import agent_argv, agent_env


@contextmanager
def service(
    setup: AgentSetup, backoff: Backoff | None = None
) -> Iterator[tuple[ServiceLoop, TriggerHub]]:
    agent = Agent.open(setup.config())
    hub = TriggerHub()
    triggers = start_triggers(hub, agent.platform, [setup.watch_root], poll_interval=0.5)
    loop = ServiceLoop(agent, hub, backoff=backoff)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(loop.run()))
    thread.start()
    try:
        yield loop, hub
    finally:
        hub.request_stop()
        thread.join(timeout=10)
        triggers.stop()
        agent.close()
    assert not thread.is_alive() and result == [0]


def triggers_of(server: FakeServer) -> list[str]:
    return [r.payload["trigger"] for r in server.state.reports]


def test_pick_trigger_names_the_most_telling() -> None:
    assert pick_trigger(frozenset({"network", "media"})) == "media"
    assert pick_trigger(frozenset({"schedule", "network"})) == "network"


def test_startup_then_a_new_mount_is_reported_within_2_seconds(
    enrolled: AgentSetup, server: FakeServer
) -> None:
    with service(enrolled):
        assert len(server.wait_for_reports(1, timeout=10)) == 1
        mounted = time.monotonic()
        (enrolled.watch_root / "KINGSTON").mkdir()
        assert len(server.wait_for_reports(2, timeout=2.0)) == 2
        assert time.monotonic() - mounted < 2.0
    assert triggers_of(server) == ["startup", "media"]


def test_schedule_override_runs_checks_on_time(enrolled: AgentSetup, server: FakeServer) -> None:
    enrolled.config_path.write_text(
        enrolled.config_path.read_text().replace(
            "check_interval_override: 3600", "check_interval_override: 1"
        )
    )
    with service(enrolled):
        server.wait_for_reports(3, timeout=5)
    assert triggers_of(server)[:3] == ["startup", "schedule", "schedule"]


def test_failed_delivery_is_retried_with_backoff_while_triggers_still_work(
    enrolled: AgentSetup, server: FakeServer
) -> None:
    server.state.fail_reports = 10**6
    with service(enrolled, Backoff(base=0.2, cap=0.4)) as (loop, _):
        deadline = time.monotonic() + 5
        while loop.backoff.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop.backoff.failures >= 3  # it kept trying, backing off
        (enrolled.watch_root / "STICK").mkdir()  # still served while the server is away
        deadline = time.monotonic() + 3
        while loop.cycles < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop.cycles == 2
        with server.lock:
            server.state.fail_reports = 0
        server.wait_for_reports(2, timeout=3)
    assert triggers_of(server) == ["startup", "media"]
    assert [r.seq for r in server.state.reports] == [1, 2]


_MEMORY_PROBE = """
import gc, sys, psutil
from agent.config import load_config
from agent.service import Agent
from pathlib import Path
agent = Agent.open(load_config(Path(sys.argv[1]), Path(sys.argv[2])))
process = psutil.Process()
for _ in range(40):
    agent.cycle("schedule")
gc.collect()
before = process.memory_info().rss
for _ in range(160):
    agent.cycle("schedule")
gc.collect()
print(before, process.memory_info().rss)
agent.close()
"""


@pytest.mark.slow
def test_memory_stays_flat_over_many_cycles(enrolled: AgentSetup, server: FakeServer) -> None:
    """In a child process of its own: pytest's log capture keeps every record of this one."""
    completed = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(enrolled.config_path), str(enrolled.state_dir)],
        capture_output=True, text=True, env=agent_env(), timeout=240, check=True,
    )  # fmt: skip
    before, after = (int(word) for word in completed.stdout.split())
    server.state.reports.clear()
    assert after - before < 2 * 1024 * 1024, f"RSS grew from {before} to {after} over 160 cycles"
    assert len(completed.stderr) < 100_000  # no error per cycle either


# --- the real process --------------------------------------------------------------------------


def test_run_without_enrollment_exits_2(setup: AgentSetup) -> None:
    completed = subprocess.run(
        agent_argv(*setup.args("run")),
        capture_output=True,
        text=True,
        env=agent_env(),
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2 and "not enrolled" in completed.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_process_reports_reacts_and_stops_cleanly(
    enrolled: AgentSetup, server: FakeServer, signum: signal.Signals
) -> None:
    with subprocess.Popen(
        agent_argv(*enrolled.args("run")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=agent_env(),
    ) as process:
        try:
            assert len(server.wait_for_reports(1, timeout=30)) == 1, "no startup report"
            time.sleep(0.3)  # let the watchers settle in after the first cycle
            mounted = time.monotonic()
            (enrolled.watch_root / "SANDISK").mkdir()
            assert len(server.wait_for_reports(2, timeout=5)) == 2
            assert time.monotonic() - mounted < 2.0
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert triggers_of(server) == ["startup", "media"]
    status, out, _ = call_cli(*enrolled.args("status"))
    assert status == 0 and '"spool": 0' in out and '"last_ack_seq": 2' in out

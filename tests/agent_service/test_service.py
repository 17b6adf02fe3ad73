"""The service loop: startup check, schedule, triggers, retries with backoff; run here
in-process with `agent.service.Agent` doing the cycles, where timing is measured. The real
`custos-agent run` (supervisor and worker processes, signals, memory): test_supervisor.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from agent.pacing import Backoff
from agent.service import Agent
from agent.supervisor import ServiceLoop, pick_trigger
from agent.triggers import TriggerHub, start_triggers
from tests.agent_service.fakeserver import FakeServer
from tests.agent_service.helpers import AgentSetup


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

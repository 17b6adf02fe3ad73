"""Checks delivered to a loopback server that speaks the real protocol: acknowledgements,
retries, refusals, replays, need_full, server policies and signed commands."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.policy.loader import load_policy_bytes
from agent.service import Agent
from agent.state import PolicyInfo, StateDir
from tests.agent_service.fakeserver import FakeServer
from tests.agent_service.helpers import SERVICE_POLICY, AgentSetup

SERVER_POLICY = SERVICE_POLICY.replace("id: service-test", "id: from-server").replace(
    'version: "1"', 'version: "2026.12"'
)


@pytest.fixture
def agent(enrolled: AgentSetup) -> Iterator[Agent]:
    opened = Agent.open(enrolled.config())
    yield opened
    opened.close()


def delivery(agent: Agent) -> dict[str, object]:
    document: dict[str, object] = json.loads(agent.state.delivery_path.read_text())
    return document


def test_ack_is_recorded_and_unchanged_state_becomes_a_heartbeat(
    agent: Agent, server: FakeServer
) -> None:
    result = agent.cycle("startup")
    assert (result.delivered, result.remaining, result.failed) == (1, 0, False)
    first = server.state.reports[0]
    after_full = delivery(agent)
    assert after_full["last_ack_seq"] == first.seq == 1
    assert after_full["last_full_state_hash"] == first.payload["state_hash"]
    assert after_full["last_full_at"] == after_full["last_ack_at"]
    agent.cycle("schedule")
    second = server.state.reports[1]
    assert second.payload["kind"] == "heartbeat" and second.seq == 2
    after_heartbeat = delivery(agent)
    assert after_heartbeat["last_ack_seq"] == 2
    # only an acknowledged FULL report moves these
    assert after_heartbeat["last_full_state_hash"] == after_full["last_full_state_hash"]
    assert after_heartbeat["last_full_at"] == after_full["last_full_at"]
    assert list(agent.state.spool_dir.iterdir()) == []


def test_need_full_makes_the_next_report_full(agent: Agent, server: FakeServer) -> None:
    agent.cycle("startup")
    server.state.full_hashes.clear()  # the server lost the full state
    agent.cycle("schedule")
    assert server.state.reports[1].payload["kind"] == "heartbeat"
    assert delivery(agent)["last_full_state_hash"] is None
    agent.cycle("schedule")
    assert server.state.reports[2].payload["kind"] == "full"


def test_server_errors_keep_reports_in_order_until_delivered(
    agent: Agent, server: FakeServer
) -> None:
    server.state.fail_reports = 4
    for trigger in ("startup", "media", "network"):
        result = agent.cycle(trigger)
        assert result.failed and "503" in result.failure
    assert [e.seq for e in agent.spool.entries()] == [1, 2, 3]
    # while the server was away nothing full was acknowledged: every report is full
    assert [e.kind for e in agent.spool.entries()] == ["full"] * 3
    assert agent.flush().failed  # the fourth 503
    result = agent.flush()
    assert (result.delivered, result.remaining, result.failed) == (3, 0, False)
    assert [r.seq for r in server.state.reports] == [1, 2, 3]
    assert [r.payload["trigger"] for r in server.state.reports] == ["startup", "media", "network"]


def test_refused_reports_go_to_rejected_and_do_not_block(
    agent: Agent, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    server.state.refuse_reason = "clock_skew"
    result = agent.cycle("startup")
    assert (result.rejected, result.remaining) == (1, 0)
    names = sorted(p.name for p in agent.state.rejected_dir.iterdir())
    assert names == [
        "00000000000000000001-full-ok.json",
        "00000000000000000001-full-ok.json.reason",
    ]
    reason = (agent.state.rejected_dir / names[1]).read_text()
    assert reason.startswith("400 clock_skew: refused on purpose")
    assert "refused by the server (clock_skew" in caplog.text
    server.state.refuse_reason = None
    assert agent.cycle("schedule").delivered == 1
    assert agent.spool.rejected() == 1


def test_a_report_the_server_already_has_is_dropped_as_delivered(
    agent: Agent, server: FakeServer
) -> None:
    agent.cycle("startup")
    # as if the agent died between the server's ack and deleting the file
    (agent.state.spool_dir / "00000000000000000001-full-ok.json").write_bytes(
        server.state.reports[0].body
    )
    result = agent.flush()
    assert (result.delivered, result.remaining, result.rejected) == (1, 0, 0)
    assert len(server.state.reports) == 1


@pytest.fixture
def server_policy_agent(enrolled: AgentSetup) -> Iterator[Agent]:
    """An agent whose policy is the one its server assigned (none in the config)."""
    enrolled.write_config(local_policy=False)
    state = StateDir(enrolled.state_dir)
    policy = load_policy_bytes(SERVICE_POLICY.encode(), "initial")
    state.store_policy(
        SERVICE_POLICY.encode(), PolicyInfo(policy.id, policy.version, policy.sha256)
    )
    opened = Agent.open(enrolled.config())
    yield opened
    opened.close()


def test_a_new_server_policy_is_verified_stored_and_checked_against(
    server_policy_agent: Agent, server: FakeServer
) -> None:
    agent = server_policy_agent
    server.set_policy("from-server", "2026.12", SERVER_POLICY)
    agent.cycle("startup")
    assert agent.state.policy_path.read_text(encoding="utf-8") == SERVER_POLICY
    info = agent.state.load_policy_info()
    assert info is not None and (info.id, info.version) == ("from-server", "2026.12")
    # the new policy is checked at once
    assert [(r.payload["trigger"], r.payload["policy"]["id"]) for r in server.state.reports] == [
        ("startup", "service-test"),
        ("policy", "from-server"),
    ]
    gets = [headers for method, path, headers in server.state.requests if method == "GET"]
    assert len(gets) == 1
    assert gets[0]["authorization"].startswith("Custos host_id=h_")
    assert gets[0]["if-none-match"] == f'"{hashlib.sha256(SERVICE_POLICY.encode()).hexdigest()}"'
    agent.cycle("schedule")
    assert len([r for r in server.state.requests if r[0] == "GET"]) == 1  # hash unchanged


def test_a_policy_signed_by_another_key_is_refused(
    server_policy_agent: Agent, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    server.set_policy("from-server", "2026.12", SERVER_POLICY)
    server.state.policy_signer = Ed25519PrivateKey.generate()
    result = server_policy_agent.cycle("startup")
    assert not result.policy_changed
    info = server_policy_agent.state.load_policy_info()
    assert info is not None and info.id == "service-test"
    assert "server policy refused, not applied: bad_server_signature" in caplog.text


def test_a_signed_but_invalid_policy_is_refused(
    server_policy_agent: Agent, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    server.set_policy("broken", "1", "id: broken\nversion: '1'\nnot_a_section: {}\n")
    server_policy_agent.cycle("startup")
    info = server_policy_agent.state.load_policy_info()
    assert info is not None and info.id == "service-test"
    assert "does not validate" in caplog.text


def test_a_recheck_command_runs_once_and_is_answered(agent: Agent, server: FakeServer) -> None:
    server.add_recheck("cmd-7")
    agent.cycle("startup")
    agent.cycle("schedule")
    triggers = [
        (r.payload["trigger"], r.payload["answered_commands"]) for r in server.state.reports
    ]
    assert triggers == [("startup", []), ("command", ["cmd-7"]), ("schedule", [])]
    assert set(json.loads(agent.state.commands_path.read_text())) == {"cmd-7"}


def test_commands_signed_by_another_key_are_refused(
    agent: Agent, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    server.add_recheck("cmd-evil")
    server.state.commands_signer = Ed25519PrivateKey.generate()
    result = agent.cycle("startup")
    assert result.commands == []
    assert [r.payload["trigger"] for r in server.state.reports] == ["startup"]
    assert "server commands refused, not executed" in caplog.text

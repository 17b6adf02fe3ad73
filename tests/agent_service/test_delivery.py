"""Checks delivered to a loopback server that speaks the real protocol: acknowledgements,
retries, refusals, replays, need_full, server policies and signed commands."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.delivery import POLICY_PATH
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


def test_a_new_server_policy_is_fetched_verified_and_stored_before_the_check(
    server_policy_agent: Agent, server: FakeServer
) -> None:
    agent = server_policy_agent
    server.set_policy("from-server", "2026.12", SERVER_POLICY)
    agent.cycle("startup")
    assert agent.state.policy_path.read_text(encoding="utf-8") == SERVER_POLICY
    info = agent.state.load_policy_info()
    assert info is not None and (info.id, info.version) == ("from-server", "2026.12")
    # the check already uses it: the policy is fetched before evaluating
    assert [(r.payload["trigger"], r.payload["policy"]["id"]) for r in server.state.reports] == [
        ("startup", "from-server"),
    ]
    gets = [headers for method, path, headers in server.state.requests if path == POLICY_PATH]
    assert len(gets) == 1
    assert gets[0]["authorization"].startswith("Custos host_id=h_")
    assert gets[0]["if-none-match"] == f'"{hashlib.sha256(SERVICE_POLICY.encode()).hexdigest()}"'
    agent.cycle("schedule")
    again = [headers for method, path, headers in server.state.requests if path == POLICY_PATH]
    assert again[-1]["if-none-match"] == f'"{hashlib.sha256(SERVER_POLICY.encode()).hexdigest()}"'
    assert [r.payload["policy"]["id"] for r in server.state.reports] == ["from-server"] * 2


REDOS_POLICY = SERVICE_POLICY.replace(
    "asset:",
    "forbidden_software:\n"
    "  - id: redos\n"
    "    severity: high\n"
    "    title: {zh: 正则, en: Regex}\n"
    "    match: {name: '^(\\S*?-?)*\\d$'}\n"
    "asset:",
)


def hold_unusable_server_policy(agent: Agent) -> None:
    """The state an older agent left: a server policy today's loader refuses."""
    data = REDOS_POLICY.encode()
    info = PolicyInfo("service-test", "redos", hashlib.sha256(data).hexdigest())
    agent.state.store_policy(data, info)


def test_a_cycle_whose_policy_fetch_fails_checks_with_the_stored_policy(
    server_policy_agent: Agent, server: FakeServer
) -> None:
    server.set_policy("from-server", "2026.12", SERVER_POLICY)
    server.state.fail_policy_gets = True

    result = server_policy_agent.cycle("schedule")

    assert (result.delivered, result.failed) == (1, False)
    assert [r.payload["policy"]["id"] for r in server.state.reports] == ["service-test"]


def test_a_fixed_policy_reaches_an_agent_whose_policy_cannot_be_evaluated(
    server_policy_agent: Agent, server: FakeServer
) -> None:
    hold_unusable_server_policy(server_policy_agent)
    server.set_policy("from-server", "2026.12", SERVER_POLICY)

    result = server_policy_agent.cycle("schedule")

    assert (result.delivered, result.failed) == (1, False)
    assert [r.payload["policy"]["id"] for r in server.state.reports] == ["from-server"]


def test_an_unusable_server_policy_costs_a_cycle_not_the_service(
    server_policy_agent: Agent, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    hold_unusable_server_policy(server_policy_agent)

    result = server_policy_agent.cycle("schedule")  # no fix on the server yet

    assert result.failed and "the server's policy is unusable" in result.failure
    assert server.state.reports == []
    assert "backtrack catastrophically" in caplog.text


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


def test_a_policy_signed_before_the_one_held_is_refused_as_a_rollback(
    server_policy_agent: Agent, server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.set_policy("from-server", "2026.12", SERVER_POLICY)
    server_policy_agent.cycle("startup")  # holds from-server, issued now
    caplog.set_level(logging.ERROR)
    server.set_policy("older", "2026.11", SERVER_POLICY.replace("from-server", "older"))
    server.state.policy_issued_shift = -dt.timedelta(minutes=5)  # within the age window

    server_policy_agent.cycle("schedule")

    info = server_policy_agent.state.load_policy_info()
    assert info is not None and info.id == "from-server"
    assert "rollback" in caplog.text


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
    assert triggers == [("startup", ["cmd-7"]), ("schedule", [])]  # fetched before the check
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

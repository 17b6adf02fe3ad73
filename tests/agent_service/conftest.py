"""Fixtures for the agent service: a loopback server, an agent config, an enrolled state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent_service.fakeserver import FakeServer, running_server
from tests.agent_service.helpers import SERVICE_POLICY, AgentSetup, call_cli


@pytest.fixture
def setup(tmp_path: Path) -> AgentSetup:
    policy = tmp_path / "policy.yaml"
    policy.write_text(SERVICE_POLICY, encoding="utf-8")
    watch_root = tmp_path / "media"
    watch_root.mkdir()
    result = AgentSetup(tmp_path / "agent.yaml", tmp_path / "state", watch_root, policy)
    result.write_config()
    return result


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with running_server() as fake:
        yield fake


@pytest.fixture
def enrolled(setup: AgentSetup, server: FakeServer) -> AgentSetup:
    status, out, err = call_cli(
        *setup.args("enroll", "--server", server.url, "--token", "good-token")
    )
    assert status == 0, err
    assert out.strip().startswith("h_")
    return setup

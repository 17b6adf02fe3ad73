"""Two real agents enroll with a real server, report through an outage of it, and the server
keeps each report as the very bytes that waited in the agent's spool."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.helpers import UNIT, AgentProcess, ServerProcess

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_two_agents_enroll_and_their_spooled_reports_are_stored_byte_for_byte(
    server: ServerProcess, make_agent: Callable[[str], AgentProcess]
) -> None:
    server.start()
    token = server.token(uses=2)
    agents = [make_agent("pc-a"), make_agent("pc-b")]
    host_ids = [agent.enroll(server.url, token) for agent in agents]
    assert len(set(host_ids)) == 2
    late = make_agent("pc-c")
    third = late.cli(*late.enroll_argv(server.url, token))
    assert third.returncode == 2 and "token_used_up" in third.stderr

    # The server is down: each `send` checks, spools, and keeps the report waiting.
    server.stop()
    for agent in agents:
        sent = agent.cli("send")
        assert sent.returncode == 1, sent.stderr
        assert "waiting 1" in sent.stdout
    spooled = {agent.name: agent.spool_files() for agent in agents}
    assert all(len(files) == 1 for files in spooled.values()), spooled.keys()

    # Back up: both agents send at once; each delivers the waiting report and a new one.
    server.start()
    with ThreadPoolExecutor(max_workers=len(agents)) as pool:
        results = list(pool.map(lambda agent: agent.cli("send"), agents))
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "delivered 2, rejected 0, waiting 0" in result.stdout

    for agent in agents:
        stored = server.database.reports(agent.host_id)
        assert [report.seq for report in stored] == [1, 2]
        assert [report.trigger for report in stored] == ["manual", "manual"]
        by_seq = {report.seq: report for report in stored}
        for name, body in spooled[agent.name].items():
            envelope = agent.verified(body)
            assert name.startswith(f"{envelope.seq:020d}-")
            assert by_seq[envelope.seq].envelope == body  # the spool file, byte for byte
        for report in stored:
            assert agent.verified(report.envelope).seq == report.seq
        assert server.database.host_unit(agent.host_id) == UNIT

        status = agent.status()
        assert status["enrolled"] is True and status["host_id"] == agent.host_id
        assert status["spool"] == 0
        assert status["last_ack_seq"] == agent.seq() == 2
        assert status["quarantined"] == 0 and status["rejected"] == 0
    server.stop()

"""A man in the middle between real agents and a real `custos-server run`: it holds no key,
so whatever it makes up or moves between hosts, an agent must not act on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.helpers import E2E_POLICY, UNIT, AgentProcess, ServerProcess
from tests.e2e.mitm import Exchange, honest, man_in_the_middle

pytestmark = [pytest.mark.server, pytest.mark.slow]

OTHER_UNIT = "浙江省/杭州市/西湖区/另一个办"
REPORTS = "/api/v1/reports"
POLICY = "/api/v1/policy"


def named_policy(tmp_path: Path, policy_id: str) -> Path:
    path = tmp_path / f"{policy_id}.yaml"
    path.write_text(E2E_POLICY.replace("id: e2e-test", f"id: {policy_id}"), encoding="utf-8")
    return path


def forged_answer(kind: str) -> Callable[[Exchange, bool], bool]:
    """Answer every report POST in the server's place: a 200 acknowledgement, or a `replay`
    refusal, each naming the report's own seq, as a real one would."""

    def tamper(exchange: Exchange, forwarded: bool) -> bool:
        if forwarded or exchange.path != REPORTS:
            return False
        seq = json.loads(exchange.body)["seq"]
        if kind == "ack":
            exchange.status, document = (
                200,
                {
                    "accepted": seq,
                    "stored": "full",
                    "need_full": False,
                    "policy": None,
                    "commands": {},
                },
            )
        else:
            exchange.status, document = 409, {"error": "replay", "detail": "seen"}
        exchange.answer = json.dumps(document).encode()
        exchange.answer_headers = {"content-type": "application/json"}
        return True

    return tamper


@pytest.mark.parametrize("kind", ["ack", "replay"])
def test_a_forged_acknowledgement_leaves_the_report_spooled_until_the_server_has_it(
    kind: str, server: ServerProcess, make_agent: Callable[[str], AgentProcess]
) -> None:
    server.start()
    with man_in_the_middle(server.port) as mitm:
        agent = make_agent(f"pc-forged-{kind}")
        agent.enroll(mitm.url, server.token(uses=1))
        mitm.tamper = forged_answer(kind)

        forged = agent.cli("send")

        assert forged.returncode == 1, forged.stderr  # reports still waiting
        assert len(agent.spool_files()) == 1
        assert "not trustworthy" in forged.stderr
        assert server.database.reports(agent.host_id) == []

        mitm.tamper = honest
        delivered = agent.cli("send", "--no-check")

        assert delivered.returncode == 0, delivered.stderr
        assert agent.spool_files() == {}
        assert [report.seq for report in server.database.reports(agent.host_id)] == [1]


def test_a_policy_signed_for_one_host_is_refused_by_another(
    server: ServerProcess, make_agent: Callable[[str], AgentProcess], tmp_path: Path
) -> None:
    server.cli("unit", "add", OTHER_UNIT)
    server.cli("policy", "add", str(named_policy(tmp_path, "unit-a-policy")), "--unit", UNIT)
    server.cli("policy", "add", str(named_policy(tmp_path, "unit-b-policy")), "--unit", OTHER_UNIT)
    server.start()
    with man_in_the_middle(server.port) as mitm:
        host_a, host_b = make_agent("pc-a"), make_agent("pc-b")
        for agent in (host_a, host_b):
            agent.hold_server_policy(E2E_POLICY)
        host_a.enroll(mitm.url, server.token(uses=1))
        token_b = server.cli("token", "create", "--unit", OTHER_UNIT).stdout.strip()
        host_b.enroll(mitm.url, token_b)
        assert host_a.cli("send").returncode == 0
        assert host_a.status()["policy"]["id"] == "unit-a-policy"
        captured = [
            e
            for e in mitm.exchanges
            if e.path == POLICY and e.status == 200 and host_a.host_id in e.headers["authorization"]
        ][-1]

        def serve_a_policy_to_b(exchange: Exchange, forwarded: bool) -> bool:
            if forwarded and exchange.path == POLICY:
                exchange.status, exchange.answer = 200, captured.answer
                exchange.answer_headers = dict(captured.answer_headers)
            return False

        mitm.tamper = serve_a_policy_to_b
        swapped = host_b.cli("send", "-v")

        assert host_b.status()["policy"]["id"] == "e2e-test", swapped.stderr
        assert "another host" in swapped.stderr
        checked_with = server.database.rows(
            "SELECT DISTINCT r.policy_id FROM fleet_report r "
            "JOIN fleet_host h ON r.host_id = h.id WHERE h.host_id = ?",
            host_b.host_id,
        )
        assert checked_with == [("e2e-test",)]

        mitm.tamper = honest
        assert host_b.cli("send").returncode == 0
        assert host_b.status()["policy"]["id"] == "unit-b-policy"

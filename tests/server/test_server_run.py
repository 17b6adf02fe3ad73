"""A real `custos-server run`: gunicorn on a loopback port, real HTTP, real signals."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from agent.protocol.documents import verified_commands
from tests.server.agents import SimulatedAgent, utc_now
from tests.server.processes import ROOT, run_server, server_argv, server_database, server_env

pytestmark = [pytest.mark.server, pytest.mark.slow]

UNIT = "广东省/深圳市/南山区/街道办"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[str]
    url: str
    data: Path

    def token(self, uses: int = 1) -> str:
        completed = run_server(self.data, "token", "create", "--unit", UNIT, "--uses", str(uses))
        assert completed.returncode == 0, completed.stderr
        return completed.stdout.strip()


def start_server(data: Path) -> RunningServer:
    port = free_port()
    process = subprocess.Popen(
        server_argv("run", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"),
        env=server_env(data),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return RunningServer(process, url, data)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0]
            pytest.fail(f"the server did not come up:\n{output}")
        time.sleep(0.1)


def stop(server: RunningServer) -> str:
    server.process.send_signal(signal.SIGTERM)
    output = server.process.communicate(timeout=30)[0]
    assert server.process.returncode == 0, output
    return output


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    data = tmp_path / "data"
    for args in (["migrate"], ["unit", "add", UNIT]):
        completed = run_server(data, *args)
        assert completed.returncode == 0, completed.stderr
    running = start_server(data)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.communicate()


def enroll(server: RunningServer, simulated: SimulatedAgent, token: str) -> httpx.Response:
    return httpx.post(
        server.url + "/api/v1/enroll",
        content=simulated.enrollment_body(token),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def test_a_running_server_enrolls_an_agent_takes_its_report_and_stops_on_sigterm(
    server: RunningServer,
) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    simulated = SimulatedAgent()

    enrolled = enroll(server, simulated, server.token())
    assert enrolled.status_code == 201, enrolled.text
    simulated.enrolled(enrolled.json())
    body = simulated.envelope(simulated.full_payload())
    accepted = httpx.post(server.url + "/api/v1/reports", content=body, timeout=10)
    replayed = httpx.post(server.url + "/api/v1/reports", content=body, timeout=10)
    policy = httpx.get(
        server.url + "/api/v1/policy",
        headers={"Authorization": simulated.authorization("/api/v1/policy")},
    )

    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1, accepted.text
    assert replayed.status_code == 409 and replayed.json()["error"] == "replay"
    assert policy.status_code == 204
    key_file = server.data / "server_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    recheck = run_server(server.data, "command", "recheck", "--host", simulated.host_id)
    assert recheck.returncode == 0, recheck.stderr
    second = httpx.post(
        server.url + "/api/v1/reports",
        content=simulated.envelope(simulated.full_payload()),
        timeout=10,
    )
    (command,) = verified_commands(
        second.json()["commands"], simulated.server_key, simulated.host_id, utc_now()
    )
    assert recheck.stdout.startswith(f"recheck {command.id} for {simulated.host_id}")

    assert "Shutting down" in stop(server)


def test_a_running_server_marks_hosts_silent_in_the_background(server: RunningServer) -> None:
    simulated = SimulatedAgent()
    simulated.enrolled(enroll(server, simulated, server.token()).json())
    stop(server)
    with server_database(server.data) as db:
        db.execute("UPDATE fleet_host SET last_seen = '2026-01-01 00:00:00'")

    restarted = start_server(server.data)  # the sweeper runs once at start, then every 60 s
    try:
        deadline = time.monotonic() + 20
        status = ""
        while status != "silent" and time.monotonic() < deadline:
            with server_database(server.data) as db:
                status = db.execute("SELECT status FROM fleet_host").fetchone()[0]
            time.sleep(0.2)
    finally:
        output = stop(restarted)
    assert status == "silent", output


def test_an_oversized_upload_is_refused_over_real_http(server: RunningServer) -> None:
    response = httpx.post(server.url + "/api/v1/reports", content=b" " * (600 * 1024), timeout=10)
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_concurrent_enrollments_take_a_single_use_token_once(server: RunningServer) -> None:
    token = server.token(uses=1)
    agents = [SimulatedAgent(hostname=f"pc-{n}") for n in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda a: enroll(server, a, token), agents))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [403] * 7, [a.text for a in answers]
    refusals = {json.loads(a.text)["error"] for a in answers if a.status_code == 403}
    assert refusals == {"token_used_up"}

"""`custos-agent enroll` against a real `custos-server run`, as a person types it: a URL with
a wrong path, https:// against the plain-HTTP server, and a success that says where it went."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from agent.transport import CONNECT_TIMEOUT
from tests.conftest import agent_env
from tests.e2e.helpers import UNIT, AgentProcess, ServerProcess, free_port
from tests.server.processes import ROOT

pytestmark = [pytest.mark.server, pytest.mark.slow]

CHINESE_LOCALE = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ENGLISH_LOCALE = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, e2e_database_url: str | None
) -> Iterator[ServerProcess]:
    """One server for the module: each test enrolls agents of its own with tokens of its own."""
    server = ServerProcess(
        tmp_path_factory.mktemp("enroll") / "server", e2e_database_url, free_port()
    )
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.kill()


def enroll(
    agent: AgentProcess, url: str, token: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        agent.argv(*agent.enroll_argv(url, token)),
        capture_output=True,
        text=True,
        env=agent_env(env),
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_a_url_with_a_wrong_path_is_no_custos_server_and_costs_no_token(
    running: ServerProcess, make_agent: Callable[[str], AgentProcess]
) -> None:
    server = running
    token = server.token(uses=1)
    agent = make_agent("pc-wrong-path")

    wrong = enroll(agent, f"{server.url}/custos", token, ENGLISH_LOCALE)

    assert wrong.returncode == 2, wrong.stderr
    assert wrong.stderr.startswith("custos-agent: enrollment failed: no Custos server at this URL")
    assert f"({server.url}/custos/api/v1/enroll answered HTTP 404)" in wrong.stderr
    assert "--server is the server's base address" in wrong.stderr
    assert wrong.stdout == ""
    assert not agent.state.exists()

    in_chinese = enroll(agent, f"{server.url}/custos", token, CHINESE_LOCALE)

    assert in_chinese.returncode == 2
    assert "这个地址上没有 Custos 服务器" in in_chinese.stderr
    assert f"{server.url}/custos/api/v1/enroll 返回 HTTP 404" in in_chinese.stderr

    assert agent.enroll(server.url, token).startswith("h_")  # the token is still unused


def test_https_to_the_plain_http_server_is_named_at_once_not_after_a_handshake_timeout(
    running: ServerProcess, make_agent: Callable[[str], AgentProcess]
) -> None:
    server = running
    token = server.token(uses=1)
    agent = make_agent("pc-https")
    https_url = server.url.replace("http://", "https://")

    started = time.monotonic()
    completed = enroll(agent, https_url, token, ENGLISH_LOCALE)
    took = time.monotonic() - started

    assert completed.returncode == 1, completed.stderr
    assert completed.stderr == (
        f"custos-agent: enrollment failed: the server at 127.0.0.1:{server.port} speaks plain "
        f"HTTP, not HTTPS; use {server.url}, or ask its administrator to put TLS in front of "
        "it\n"
    )
    assert took < CONNECT_TIMEOUT  # before: the TLS handshake waited out the whole timeout
    assert not agent.state.exists()

    in_chinese = enroll(agent, https_url, token, CHINESE_LOCALE)

    assert in_chinese.returncode == 1
    assert "服务器使用明文 HTTP，而不是 HTTPS。请改用 " + server.url in in_chinese.stderr
    assert agent.enroll(server.url, token).startswith("h_")  # the token never left


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "custos-agent: enrolled: host id {host_id}, server {url}, unit {unit}\n"),
        ("zh", "custos-agent: 已注册：主机ID {host_id}，服务器 {url}，单位 {unit}\n"),
    ],
    ids=["en", "zh"],
)
def test_a_successful_enroll_prints_the_host_id_alone_and_names_server_and_unit(
    running: ServerProcess, make_agent: Callable[[str], AgentProcess], lang: str, said: str
) -> None:
    server = running
    agent = make_agent(f"pc-{lang}")

    locale = CHINESE_LOCALE if lang == "zh" else ENGLISH_LOCALE
    completed = enroll(agent, server.url, server.token(uses=1), locale)

    assert completed.returncode == 0, completed.stderr
    host_id = completed.stdout.removesuffix("\n")
    assert host_id.startswith("h_") and "\n" not in host_id  # scripts read it alone
    assert completed.stderr == said.format(host_id=host_id, url=server.url, unit=UNIT)

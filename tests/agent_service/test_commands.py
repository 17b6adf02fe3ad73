"""`custos-agent enroll`, `send` and `status` as a user runs them (real processes where the
contract is at stake, in-process where only the logic is)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.plain_http import plain_http_url
from tests.agent_service.fakeserver import FakeServer, running_server
from tests.agent_service.helpers import AgentSetup, call_cli
from tests.agent_service.tlsutil import make_tls_files
from tests.conftest import agent_argv, agent_env, run_agent, run_agent_json

STATUS_KEYS = {
    "enrolled",
    "host_id",
    "server",
    "spool",
    "last_ack_seq",
    "policy",
    "quarantined",
    "rejected",
    "last_ack_at",
}


# --- enroll ------------------------------------------------------------------------------------


def test_enroll_stores_key_and_pinned_server_key(setup: AgentSetup, server: FakeServer) -> None:
    completed = run_agent(*setup.args("enroll", "--server", server.url, "--token", "good-token"))
    assert completed.returncode == 0, completed.stderr
    host_id = completed.stdout.strip()
    assert host_id in server.state.hosts
    enrollment = json.loads((setup.state_dir / "enrollment.json").read_text())
    assert enrollment["host_id"] == host_id and enrollment["server"] == server.url
    assert enrollment["server_public_key"] == server.server_public_key
    assert enrollment["enrolled_at"].endswith("Z")
    key_path = setup.state_dir / "agent_key.pem"
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8
    if os.name != "nt":
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert server.state.hosts[host_id] == public


def test_enroll_reads_the_token_from_standard_input_keeping_it_out_of_the_process_list(
    setup: AgentSetup, server: FakeServer
) -> None:
    argv = agent_argv(*setup.args("enroll", "--server", server.url, "--token", "-"))
    completed = subprocess.run(
        argv, input="good-token\n", capture_output=True, text=True, env=agent_env(), timeout=120
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() in server.state.hosts
    assert "good-token" not in " ".join(argv)


def test_enroll_reads_the_token_from_a_file(
    setup: AgentSetup, server: FakeServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("good-token\n", encoding="utf-8")

    status, out, err = call_cli(
        *setup.args("enroll", "--server", server.url, "--token-file", str(token_file))
    )

    assert status == 0, err
    assert out.strip() in server.state.hosts


def test_enroll_refuses_an_empty_token_file_and_two_token_sources(
    setup: AgentSetup, server: FakeServer, tmp_path: Path
) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n", encoding="utf-8")
    base = setup.args("enroll", "--server", server.url)

    assert call_cli(*base, "--token-file", str(empty))[0] == 2
    both = run_agent(*base, "--token", "good-token", "--token-file", str(empty))

    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert server.state.hosts == {}


def test_enroll_refuses_to_enroll_twice_unless_forced(
    enrolled: AgentSetup, server: FakeServer
) -> None:
    before = json.loads((enrolled.state_dir / "enrollment.json").read_text())["host_id"]
    status, _, err = call_cli(
        *enrolled.args("enroll", "--server", server.url, "--token", "good-token")
    )
    assert status == 2 and "already enrolled" in err and "--force" in err
    status, out, _ = call_cli(
        *enrolled.args("enroll", "--server", server.url, "--token", "good-token", "--force")
    )
    assert status == 0 and out.strip() != before


def test_a_refused_enrollment_prints_the_reason_and_writes_nothing(
    setup: AgentSetup, server: FakeServer
) -> None:
    completed = run_agent(*setup.args("enroll", "--server", server.url, "--token", "stolen"))
    assert completed.returncode == 2
    assert "token_invalid" in completed.stderr
    assert not setup.state_dir.exists()


def test_an_unreachable_server_writes_nothing(setup: AgentSetup) -> None:
    with running_server() as gone:
        url = gone.url
    status, _, err = call_cli(*setup.args("enroll", "--server", url, "--token", "good-token"))
    assert status == 1 and "not reached" in err
    assert not setup.state_dir.exists()


def test_enroll_keeps_the_transport_options(setup: AgentSetup, tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    with running_server((tls.server_cert, tls.server_key)) as server:
        status, _, err = call_cli(
            *setup.args(
                "enroll",
                "--server",
                server.url,
                "--token",
                "good-token",
                "--ca-bundle",
                str(tls.ca_cert),
                "--pin-sha256",
                tls.server_der_sha256.upper(),
            )
        )
        assert status == 0, err
        enrollment = json.loads((setup.state_dir / "enrollment.json").read_text())
        assert enrollment["ca_bundle"] == str(tls.ca_cert)
        assert enrollment["pin_sha256"] == tls.server_der_sha256
        assert enrollment["proxy"] is None
        # and reports travel the same verified, pinned way
        assert call_cli(*setup.args("send"))[0] == 0
        assert len(server.state.reports) == 1


def test_enroll_with_a_wrong_pin_writes_nothing(setup: AgentSetup, tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    with running_server((tls.server_cert, tls.server_key)) as server:
        status, _, err = call_cli(
            *setup.args(
                "enroll",
                "--server",
                server.url,
                "--token",
                "good-token",
                "--ca-bundle",
                str(tls.ca_cert),
                "--pin-sha256",
                "ab" * 32,
            )
        )
        assert status == 1 and "does not match the pinned" in err
        assert server.state.hosts == {}  # the token never left the machine
    assert not setup.state_dir.exists()


def test_the_plain_http_probe_tells_a_tls_server_from_a_plain_one(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path / "tls")
    with running_server((tls.server_cert, tls.server_key)) as secure:
        assert secure.url.startswith("https://")
        assert plain_http_url(secure.url) is None
    with running_server() as plain:
        https_url = plain.url.replace("http://", "https://")
        assert plain_http_url(https_url) == plain.url
        assert plain_http_url(plain.url) is None  # asked for plain HTTP: nothing to say
        assert plain_http_url(https_url, proxy="http://127.0.0.1:3128") is None
    assert plain_http_url(https_url) is None  # nobody listens any more


# --- send --------------------------------------------------------------------------------------


def test_send_without_enrollment_exits_2(setup: AgentSetup) -> None:
    completed = run_agent(*setup.args("send"))
    assert completed.returncode == 2 and "not enrolled" in completed.stderr


def test_send_delivers_and_exits_0(enrolled: AgentSetup, server: FakeServer) -> None:
    completed = run_agent(*enrolled.args("send"))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "delivered 1, rejected 0, waiting 0"
    assert [r.payload["trigger"] for r in server.state.reports] == ["manual"]


def test_send_exits_1_while_the_server_fails_then_flushes_oldest_first(
    enrolled: AgentSetup, server: FakeServer
) -> None:
    server.state.fail_reports = 2
    assert call_cli(*enrolled.args("send"))[0] == 1
    status, out, err = call_cli(*enrolled.args("send"))
    assert status == 1 and "waiting 2" in out and "503" in err
    status, out, _ = call_cli(*enrolled.args("send"))
    assert status == 0 and out.strip() == "delivered 3, rejected 0, waiting 0"
    assert [r.seq for r in server.state.reports] == [1, 2, 3]


# --- status ------------------------------------------------------------------------------------


def test_status_json_not_enrolled(setup: AgentSetup) -> None:
    status, document = run_agent_json(*setup.args("status", "--format", "json"))
    assert status == 0
    assert set(document) == STATUS_KEYS
    assert document["enrolled"] is False and document["host_id"] is None
    assert document["spool"] == 0 and document["policy"] is None
    assert not setup.state_dir.exists()  # looking changes nothing


def test_status_json_after_delivery_and_while_waiting(
    enrolled: AgentSetup, server: FakeServer
) -> None:
    call_cli(*enrolled.args("send"))
    server.state.fail_reports = 1
    call_cli(*enrolled.args("send"))
    (enrolled.state_dir / "spool" / "junk.json").write_text("{}")  # not counted, not moved
    status, document = run_agent_json(*enrolled.args("status"))
    assert status == 0 and set(document) == STATUS_KEYS
    assert document["enrolled"] is True
    assert document["host_id"] in server.state.hosts
    assert document["server"] == server.url
    assert document["spool"] == 1
    assert document["last_ack_seq"] == 1
    assert document["last_ack_at"].endswith("Z")
    assert (document["quarantined"], document["rejected"]) == (0, 0)
    assert document["policy"] is None  # the config's own policy; the server assigned none
    assert (enrolled.state_dir / "spool" / "junk.json").exists()


def test_status_names_the_server_policy(enrolled: AgentSetup, server: FakeServer) -> None:
    server.set_policy("from-server", "7", "id: from-server\nversion: '7'\n" + _RULES)
    call_cli(*enrolled.args("send"))
    status, out, _ = call_cli(*enrolled.args("status", "--format", "json"))
    assert json.loads(out)["policy"] == {"id": "from-server", "version": "7"}
    status, text, _ = call_cli(*enrolled.args("status", "--format", "text"))
    assert status == 0
    assert "policy:        from-server 7" in text and "waiting:       0" in text


_RULES = """title: {zh: 服务器策略, en: Server policy}
asset:
  - id: asset-number
    severity: medium
    title: {zh: 资产编号, en: Asset number}
    required_fields: [machine_number]
"""


@pytest.mark.parametrize("bad", ["ftp://server", "server.example", "https://server/?a=1"])
def test_enroll_refuses_a_malformed_server_url(setup: AgentSetup, bad: str) -> None:
    status, _, err = call_cli(*setup.args("enroll", "--server", bad, "--token", "t"))
    assert status == 2 and "--server" in err

"""The probe responder as institutions run it: a real process on loopback ephemeral ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from agent.probes.dns import nonce_labels
from agent.probes.keytext import decode_public_key
from agent.probes.nonce import check_signature, new_nonce
from tests.netns import ResponderProcess, python_env

LISTEN = {"http": "127.0.0.1:0", "tcp": "127.0.0.1:0", "dns": "127.0.0.1:0"}


def responder_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.probes.responder", *args],
        capture_output=True,
        text=True,
        env=python_env(),
        timeout=30,
        check=False,
    )


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("responder") / "responder.pem"
    assert responder_command("--key", str(path), "--generate-key").returncode == 0
    return path


@pytest.fixture(scope="module")
def public_key(key_file: Path) -> bytes:
    printed = responder_command("--key", str(key_file), "--print-public-key")
    return decode_public_key(printed.stdout.strip())


@pytest.fixture
def responder(key_file: Path, tmp_path: Path) -> Iterator[ResponderProcess]:
    with ResponderProcess.start(key_file, LISTEN, tmp_path / "responder.log") as running:
        yield running


def get_json(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def tcp_exchange(address: tuple[str, int], request: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(1024):
            answer += chunk
        return answer


def test_it_generates_a_private_key_readable_only_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "new.pem"
    generated = responder_command("--key", str(path), "--generate-key")
    assert generated.returncode == 0, generated.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    printed = responder_command("--key", str(path), "--print-public-key")
    assert printed.stdout == generated.stdout
    assert len(decode_public_key(generated.stdout.strip())) == 32


def test_it_refuses_to_overwrite_an_existing_key(key_file: Path) -> None:
    before = key_file.read_bytes()
    again = responder_command("--key", str(key_file), "--generate-key")
    assert again.returncode == 2
    assert "refusing to overwrite" in again.stderr
    assert key_file.read_bytes() == before


def test_it_rejects_a_key_file_that_is_not_an_ed25519_key(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_text("not a key\n")
    result = responder_command("--key", str(path), "--http", "127.0.0.1:0")
    assert result.returncode == 2
    assert "not an unencrypted PEM private key" in result.stderr


def test_it_says_there_is_nothing_to_serve_without_listeners(key_file: Path) -> None:
    result = responder_command("--key", str(key_file))
    assert result.returncode == 2
    assert "nothing to serve" in result.stderr


def test_it_signs_the_nonce_of_an_http_request(
    responder: ResponderProcess, public_key: bytes
) -> None:
    nonce = new_nonce()
    status, answer = get_json(responder.url(f"/probe?x=1&custos-nonce={nonce.hex()}"))
    assert status == 200
    assert answer["v"] == 1
    assert answer["nonce"] == nonce.hex()
    assert isinstance(answer["signature"], str)
    assert check_signature(public_key, nonce, answer["signature"])[0]


def test_its_http_signature_does_not_verify_for_another_nonce(
    responder: ResponderProcess, public_key: bytes
) -> None:
    _, answer = get_json(responder.url(f"/?custos-nonce={new_nonce().hex()}"))
    assert isinstance(answer["signature"], str)
    assert check_signature(public_key, new_nonce(), answer["signature"])[0] is False


@pytest.mark.parametrize(
    "query",
    ["", "?custos-nonce=abc", "?custos-nonce=" + "zz" * 32, "?custos-nonce=1&custos-nonce=2"],
)
def test_it_answers_400_to_a_missing_or_malformed_nonce(
    responder: ResponderProcess, query: str
) -> None:
    status, answer = get_json(responder.url(f"/probe{query}"))
    assert status == 400
    assert "error" in answer


def test_it_answers_its_health_check(responder: ResponderProcess) -> None:
    assert get_json(responder.url("/healthz")) == (200, {"status": "ok"})


def test_it_signs_the_nonce_of_a_tcp_request_line(
    responder: ResponderProcess, public_key: bytes
) -> None:
    nonce = new_nonce()
    answer = tcp_exchange(responder.addresses["tcp"], f"CUSTOS-PROBE/1 {nonce.hex()}\r\n".encode())
    assert answer.endswith(b"\r\n")
    assert check_signature(public_key, nonce, answer.decode().strip())[0]


def test_it_answers_err_to_a_bad_tcp_request(responder: ResponderProcess) -> None:
    answer = tcp_exchange(responder.addresses["tcp"], b"HELLO\r\n")
    assert answer.startswith(b"ERR ")


def test_it_signs_the_nonce_in_a_dns_txt_query(
    responder: ResponderProcess, public_key: bytes
) -> None:
    nonce = new_nonce()
    host, port = responder.addresses["dns"]
    query = dns.message.make_query(f"{nonce_labels(nonce)}.probe.example.", "TXT")
    response = dns.query.udp(query, host, port=port, timeout=5)
    [rrset] = response.answer
    [rdata] = list(rrset)
    assert rrset.ttl == 0
    assert check_signature(public_key, nonce, b"".join(rdata.strings).decode())[0]


def test_it_answers_other_dns_queries_with_an_empty_noerror(responder: ResponderProcess) -> None:
    host, port = responder.addresses["dns"]
    for name, rdtype in (("probe.example.", "A"), (f"{'a' * 32}.probe.example.", "TXT")):
        response = dns.query.udp(dns.message.make_query(name, rdtype), host, port=port, timeout=5)
        assert response.rcode() == dns.rcode.NOERROR
        assert response.answer == []


def test_it_logs_one_line_per_request(responder: ResponderProcess) -> None:
    get_json(responder.url("/healthz"))
    tcp_exchange(responder.addresses["tcp"], f"CUSTOS-PROBE/1 {new_nonce().hex()}\r\n".encode())
    responder.stop()
    lines = responder.log_lines()
    assert [line for line in lines if " http " in line and "/healthz" in line and "200" in line]
    assert [line for line in lines if " tcp " in line and "signed" in line]
    assert len([line for line in lines if " http " in line or " tcp " in line]) == 2


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_it_stops_cleanly_on_a_stop_signal(
    key_file: Path, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    running = ResponderProcess.start(key_file, LISTEN, tmp_path / "responder.log")
    with running:
        os.kill(running.process.pid, stop_signal)
        assert running.process.wait(10) == 0
    with pytest.raises(OSError):
        socket.create_connection(running.addresses["tcp"], timeout=2).close()


def test_it_exits_with_an_error_when_its_port_is_taken(key_file: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = responder_command("--key", str(key_file), "--tcp", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"cannot listen on tcp 127.0.0.1:{port}" in result.stderr

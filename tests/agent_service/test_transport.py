"""The transport against loopback servers started here: TLS verification, CA bundle,
certificate pinning, a CONNECT proxy, timeouts, answer classification and backoff."""

from __future__ import annotations

import datetime as dt
import select
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.pacing import Backoff
from agent.protocol.envelope import encode_envelope
from agent.transport import (
    Outcome,
    Transport,
    TransportError,
    TransportOptions,
    normalise_pin,
    post_report,
)
from tests.agent_service.fakeserver import FakeServer, raw_public, running_server
from tests.agent_service.tlsutil import TlsFiles, make_tls_files

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(tls: TlsFiles) -> Iterator[FakeServer]:
    with running_server((tls.server_cert, tls.server_key)) as server:
        yield server


def probe(transport: Transport) -> int:
    try:
        return transport.request("GET", "/api/v1/nothing").status
    finally:
        transport.close()


# --- TLS ---------------------------------------------------------------------------------------


def test_tls_is_verified_against_the_system_store_by_default(tls_server: FakeServer) -> None:
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        probe(Transport(tls_server.url))


def test_tls_with_the_units_ca_bundle(tls_server: FakeServer, tls: TlsFiles) -> None:
    assert probe(Transport(tls_server.url, TransportOptions(ca_bundle=tls.ca_cert))) == 404


def test_a_ca_bundle_of_another_ca_is_refused(tls_server: FakeServer, tmp_path: Path) -> None:
    other = make_tls_files(tmp_path / "other", common_name="Another CA")
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        probe(Transport(tls_server.url, TransportOptions(ca_bundle=other.ca_cert)))


def test_pinned_certificate_matches(tls_server: FakeServer, tls: TlsFiles) -> None:
    pin = ":".join(tls.server_der_sha256[i : i + 2] for i in range(0, 64, 2)).upper()
    options = TransportOptions(ca_bundle=tls.ca_cert, pin_sha256=pin)
    assert probe(Transport(tls_server.url, options)) == 404


def test_a_wrong_pin_is_refused_before_the_request_is_written(
    tls_server: FakeServer, tls: TlsFiles
) -> None:
    options = TransportOptions(ca_bundle=tls.ca_cert, pin_sha256="ab" * 32)
    with pytest.raises(TransportError, match=r"pin mismatch.*does not match the pinned"):
        probe(Transport(tls_server.url, options))
    assert tls_server.state.requests == []  # the impostor never saw a request


def test_the_pin_is_checked_on_every_response_of_a_kept_alive_connection(
    tls_server: FakeServer, tls: TlsFiles
) -> None:
    options = TransportOptions(ca_bundle=tls.ca_cert, pin_sha256=tls.server_der_sha256)
    transport = Transport(tls_server.url, options)
    try:
        assert transport.request("GET", "/a").status == 404
        assert transport.request("GET", "/b").status == 404
        transport._pin = "00" * 32  # as if the server's certificate had changed
        with pytest.raises(TransportError, match="does not match"):
            transport.request("GET", "/c")
    finally:
        transport.close()


def test_pinning_needs_https() -> None:
    with pytest.raises(TransportError, match="https"):
        Transport("http://127.0.0.1:1", TransportOptions(pin_sha256="ab" * 32))


def test_pin_text_forms() -> None:
    assert normalise_pin("AB:" * 31 + "AB") == "ab" * 32
    with pytest.raises(ValueError):
        normalise_pin("abc")


# --- proxy -------------------------------------------------------------------------------------


class ConnectProxy:
    """An HTTP CONNECT proxy on loopback that records where it tunnelled to."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.targets: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(target)
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                sockets = [client, upstream]
                while True:
                    readable, _, _ = select.select(sockets, [], [], 5)
                    if not readable:
                        return
                    for sock in readable:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)

    def close(self) -> None:
        self.listener.close()


def test_https_through_a_proxy(tls_server: FakeServer, tls: TlsFiles) -> None:
    proxy = ConnectProxy()
    try:
        options = TransportOptions(
            ca_bundle=tls.ca_cert, pin_sha256=tls.server_der_sha256, proxy=proxy.url
        )
        assert probe(Transport(tls_server.url, options)) == 404
        assert proxy.targets == [tls_server.url.removeprefix("https://")]
    finally:
        proxy.close()


# --- timeouts and unreachable servers ----------------------------------------------------------


def test_a_silent_server_times_out() -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(TransportError, match="ReadTimeout"):
            probe(Transport(url, TransportOptions(connect_timeout=1, read_timeout=0.5)))
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_a_closed_port_is_a_transport_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    result = post_report(Transport(f"http://127.0.0.1:{port}"), b"{}", 1)
    assert result.outcome is Outcome.RETRY and "ConnectError" in result.detail


# --- what an answer means for the report -------------------------------------------------------


def registered_host(server: FakeServer) -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    host_id = "h_" + "b" * 32
    server.state.hosts[host_id] = raw_public(key)
    server.state.seqs[host_id] = set()
    return host_id, key


def body(key: Ed25519PrivateKey, host_id: str, seq: int) -> bytes:
    payload = (
        b'{"v":1,"kind":"heartbeat","created_at":"2026-11-27T08:00:00Z","trigger":"manual",'
        b'"state_hash":"'
        + b"0" * 64
        + b'","policy":{"id":"p","version":"1","sha256":"'
        + b"1" * 64
        + b'"},"summary":{"compliant":true,"passed":1,"failed":0,"errors":0,'
        b'"not_applicable":0},"answered_commands":[]}'
    )
    return encode_envelope(key, host_id, seq, NOW, payload)


def test_answers_are_classified(server: FakeServer) -> None:
    host_id, key = registered_host(server)
    transport = Transport(server.url)
    try:
        accepted = post_report(transport, body(key, host_id, 1), 1)
        assert accepted.outcome is Outcome.ACCEPTED and accepted.ack is not None
        assert accepted.ack["need_full"] is True  # a heartbeat naming an unknown state
        assert post_report(transport, body(key, host_id, 1), 1).outcome is Outcome.DUPLICATE
        server.state.fail_reports = 1
        assert post_report(transport, body(key, host_id, 2), 2).outcome is Outcome.RETRY
        server.state.refuse_without_reason = 1
        bare = post_report(transport, body(key, host_id, 2), 2)
        assert bare.outcome is Outcome.RETRY and "without a protocol reason" in bare.detail
        forged = post_report(transport, body(Ed25519PrivateKey.generate(), host_id, 2), 2)
        assert forged.outcome is Outcome.REFUSED
        assert (forged.reason, forged.status) == ("bad_signature", 401)
        # an acknowledgement of another seq is not an acknowledgement of this one
        server.state.seqs[host_id].clear()
        assert post_report(transport, body(key, host_id, 3), 4).outcome is Outcome.RETRY
    finally:
        transport.close()


# --- backoff -----------------------------------------------------------------------------------


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    import random

    backoff = Backoff(rng=random.Random(1))
    ceilings = []
    for _ in range(12):
        delay = backoff.failure()
        ceilings.append(backoff.ceiling())
        assert 0 <= delay <= backoff.ceiling()
    assert ceilings[:6] == [2, 4, 8, 16, 32, 64]
    assert ceilings[-1] == 600  # ten minutes at most
    backoff.success()
    assert backoff.failures == 0 and backoff.ceiling() == 2
    samples = []
    for _ in range(4000):
        backoff.failures = 2
        samples.append(backoff.failure())  # third failure: uniform on [0, 8]
    assert 3.7 < statistics.mean(samples) < 4.3
    assert min(samples) < 0.5 and max(samples) > 7.5
    backoff.failures = 10**6
    assert backoff.failure() <= 600

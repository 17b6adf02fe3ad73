"""Egress probes on loopback: the real responder process, fakes that cannot sign, black holes."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import dns.message
import dns.rcode
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from agent.facts import ProbeOutcome, ProbeResult
from agent.policy.model import ProbeSpec
from agent.probes import run_probes
from agent.probes import runner as probe_runner
from agent.probes.dns import parse_dns_target
from agent.probes.http import url_with_nonce
from agent.probes.keytext import decode_public_key, encode_public_key
from agent.probes.nonce import (
    check_signature,
    encode_signature,
    new_nonce,
    sign_nonce,
)
from agent.probes.tcp import parse_host_port
from agent.probes.verdict import Verdict
from tests.netns import ResponderProcess

BOUND_SLACK_SECONDS = 0.5  # thread start-up and scheduling; the bound itself is the point

# Answers a fake HTTP server gives: (status, headers, body) for the nonce hex it was sent.
Answer = Callable[[str], tuple[int, dict[str, str], bytes]]


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture(scope="module")
def responder_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def policy_key(responder_key: Ed25519PrivateKey) -> bytes:
    return raw_public_key(responder_key)


@pytest.fixture(scope="module")
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def responder(
    responder_key: Ed25519PrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ResponderProcess]:
    directory = tmp_path_factory.mktemp("responder")
    key_file = directory / "responder.pem"
    key_file.write_bytes(
        responder_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    listen = {"http": "127.0.0.1:0", "tcp": "127.0.0.1:0", "dns": "127.0.0.1:0"}
    with ResponderProcess.start(key_file, listen, directory / "responder.log") as running:
        yield running


def only(spec: ProbeSpec, total_timeout: float = 10.0) -> ProbeResult:
    [result] = run_probes([spec], total_timeout)
    return result


# --- fakes on loopback ------------------------------------------------------------------


class FakeHttp:
    """An HTTP(S) server on loopback that answers whatever the test says, signed or not."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                nonce_hex = parse_qs(urlsplit(self.path).query).get("custos-nonce", [""])[0]
                status, headers, body = answer(nonce_hex)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, scheme: str = "http", path: str = "/probe") -> str:
        host, port = self.server.server_address[:2]
        return f"{scheme}://{host!s}:{port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def fake_http() -> Iterator[Callable[..., FakeHttp]]:
    started: list[FakeHttp] = []

    def start(answer: Answer, tls: ssl.SSLContext | None = None) -> FakeHttp:
        started.append(FakeHttp(answer, tls))
        return started[-1]

    yield start
    for fake in started:
        fake.close()


def json_answer(document: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()


def signed_by(key: Ed25519PrivateKey, announce: bool = False) -> Answer:
    def answer(nonce_hex: str) -> tuple[int, dict[str, str], bytes]:
        signature = encode_signature(sign_nonce(key, bytes.fromhex(nonce_hex)))
        document: dict[str, object] = {"v": 1, "nonce": nonce_hex, "signature": signature}
        if announce:
            document["key"] = encode_public_key(raw_public_key(key))
        return json_answer(document)

    return answer


@pytest.fixture(scope="module")
def self_signed_tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A TLS server context with a certificate for 127.0.0.1 that nobody trusts."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custos probe test")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


class FakeLine:
    """A TCP server on loopback that answers every connection with one fixed line."""

    def __init__(self, line: bytes) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.line = line
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def target(self) -> str:
        host, port = self.listener.getsockname()[:2]
        return f"{host}:{port}"

    def _serve(self) -> None:
        try:
            while True:
                connection, _ = self.listener.accept()
                with connection:
                    connection.recv(1024)
                    connection.sendall(self.line)
        except OSError:  # the listener was closed: the test is over
            return


class FakeDns:
    """A DNS server on loopback that answers every query with one rcode and no records."""

    def __init__(self, rcode: dns.rcode.Rcode) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.rcode = rcode
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def server(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    def _serve(self) -> None:
        try:
            while True:
                data, peer = self.sock.recvfrom(4096)
                response = dns.message.make_response(dns.message.from_wire(data))
                response.set_rcode(self.rcode)
                self.sock.sendto(response.to_wire(), peer)
        except OSError:
            return


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A listener whose backlog accepts connections that nobody ever reads or answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        host, port = listener.getsockname()[:2]
        yield f"{host}:{port}"


@pytest.fixture
def refusing_port() -> Iterator[str]:
    """A port that is bound but not listening, so a connect is refused (and stays refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()[:2]
        yield f"{host}:{port}"


@pytest.fixture
def silent_udp_port() -> Iterator[str]:
    """A bound UDP port that never answers: a DNS server that is not there."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()[:2]
        yield f"{host}:{port}"


# --- the signed-answer scheme -----------------------------------------------------------


def test_a_signature_counts_only_over_the_domain_separated_nonce(
    responder_key: Ed25519PrivateKey, policy_key: bytes
) -> None:
    nonce = new_nonce()
    assert check_signature(policy_key, nonce, encode_signature(sign_nonce(responder_key, nonce)))[0]
    bare = encode_signature(responder_key.sign(nonce))
    assert check_signature(policy_key, nonce, bare) == (
        False,
        f"the signature does not verify with the policy key {encode_public_key(policy_key)}",
    )


def test_a_signature_over_another_nonce_does_not_count(
    responder_key: Ed25519PrivateKey, policy_key: bytes
) -> None:
    old = encode_signature(sign_nonce(responder_key, new_nonce()))
    assert check_signature(policy_key, new_nonce(), old)[0] is False


def test_it_names_the_other_key_an_answer_was_signed_with(
    policy_key: bytes, other_key: Ed25519PrivateKey
) -> None:
    nonce = new_nonce()
    other_text = encode_public_key(raw_public_key(other_key))
    verified, why = check_signature(
        policy_key, nonce, encode_signature(sign_nonce(other_key, nonce)), other_text
    )
    assert not verified
    assert why.startswith(f"signed by another key {other_text}")


@pytest.mark.parametrize(
    ("signature", "reason"),
    [(None, "no signature"), ("", "no signature"), ("!!", "not base64"), ("AAAA", "3 bytes")],
)
def test_it_says_why_a_signature_is_unusable(
    policy_key: bytes, signature: str | None, reason: str
) -> None:
    verified, why = check_signature(policy_key, new_nonce(), signature)
    assert not verified
    assert reason in why


def test_a_public_key_round_trips_through_its_policy_text(policy_key: bytes) -> None:
    text = encode_public_key(policy_key)
    assert text.startswith("ed25519:")
    assert decode_public_key(text) == policy_key


@pytest.mark.parametrize("text", ["", "ed25519:", "ed25519:!!!!", "rsa:AAAA", "ed25519:AAAA"])
def test_it_rejects_a_public_key_text_that_is_not_an_ed25519_key(text: str) -> None:
    with pytest.raises(ValueError):
        decode_public_key(text)


def test_every_probe_gets_a_fresh_32_byte_nonce() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert {len(nonce) for nonce in nonces} == {32}


# --- targets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/p", "http://h/p?custos-nonce=00ff"),
        ("http://h/p?a=1", "http://h/p?a=1&custos-nonce=00ff"),
        ("https://h:8443/?a=1&b=2#frag", "https://h:8443/?a=1&b=2&custos-nonce=00ff"),
    ],
)
def test_it_appends_the_nonce_to_the_url_query(url: str, expected: str) -> None:
    assert url_with_nonce(url, b"\x00\xff") == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [("example.org:443", ("example.org", 443)), ("[2001:db8::1]:7", ("2001:db8::1", 7))],
)
def test_it_reads_host_and_port(target: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(target) == expected


@pytest.mark.parametrize("target", ["example.org", ":80", "h:0", "h:65536", "h:x", "2001:db8::1:7"])
def test_it_rejects_a_tcp_target_without_a_usable_host_and_port(target: str) -> None:
    with pytest.raises(ValueError):
        parse_host_port(target)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("probe.example.org", ("probe.example.org", None)),
        ("probe.example.org.@192.0.2.1", ("probe.example.org", ("192.0.2.1", 53))),
        ("probe.example.org@192.0.2.1:5353", ("probe.example.org", ("192.0.2.1", 5353))),
        ("probe.example.org@[2001:db8::1]:53", ("probe.example.org", ("2001:db8::1", 53))),
        ("probe.example.org@2001:db8::1", ("probe.example.org", ("2001:db8::1", 53))),
    ],
)
def test_it_reads_a_dns_name_and_optional_server(
    target: str, expected: tuple[str, tuple[str, int] | None]
) -> None:
    assert parse_dns_target(target) == expected


@pytest.mark.parametrize("target", ["", "@192.0.2.1", "name@dns.example.org", "n@1.2.3.4:x"])
def test_it_rejects_a_dns_target_it_cannot_use(target: str) -> None:
    with pytest.raises(ValueError):
        parse_dns_target(target)


# --- the real responder -----------------------------------------------------------------


def test_an_http_probe_answered_by_the_responder_is_reached_and_verified(
    responder: ResponderProcess, policy_key: bytes
) -> None:
    result = only(ProbeSpec("web", "http", responder.url("/probe?unit=a"), policy_key))
    assert result.outcome is ProbeOutcome.REACHED
    assert result.verified
    host, port = responder.addresses["http"]
    assert f"HTTP 200 OK from {host}:{port}" in result.detail
    assert "server: custos-probe-responder/1" in result.detail
    assert "verified" in result.detail
    assert result.elapsed_ms > 0


def test_a_tcp_probe_answered_by_the_responder_is_reached_and_verified(
    responder: ResponderProcess, policy_key: bytes
) -> None:
    result = only(ProbeSpec("tcp", "tcp", responder.endpoint("tcp"), policy_key))
    assert (result.outcome, result.verified) == (ProbeOutcome.REACHED, True)
    assert f"accepted by {responder.endpoint('tcp')}" in result.detail


def test_a_dns_probe_answered_by_the_responder_is_reached_and_verified(
    responder: ResponderProcess, policy_key: bytes
) -> None:
    target = f"probe.custos.test@{responder.endpoint('dns')}"
    result = only(ProbeSpec("dns", "dns", target, policy_key))
    assert (result.outcome, result.verified) == (ProbeOutcome.REACHED, True)
    assert f"DNS server {responder.endpoint('dns')} answered 1 TXT record" in result.detail


@pytest.mark.parametrize("kind", ["http", "tcp", "dns"])
def test_a_probe_without_a_key_counts_any_answer_as_reached_but_not_verified(
    responder: ResponderProcess, kind: str
) -> None:
    targets = {
        "http": responder.url("/"),
        "tcp": responder.endpoint("tcp"),
        "dns": f"probe.custos.test@{responder.endpoint('dns')}",
    }
    result = only(ProbeSpec(kind, cast(Any, kind), targets[kind]))
    assert (result.outcome, result.verified) == (ProbeOutcome.REACHED, False)


@pytest.mark.parametrize("kind", ["http", "tcp", "dns"])
def test_the_responder_is_unverified_when_the_policy_names_another_key(
    responder: ResponderProcess, other_key: Ed25519PrivateKey, kind: str
) -> None:
    targets = {
        "http": responder.url("/"),
        "tcp": responder.endpoint("tcp"),
        "dns": f"probe.custos.test@{responder.endpoint('dns')}",
    }
    result = only(ProbeSpec(kind, cast(Any, kind), targets[kind], raw_public_key(other_key)))
    assert (result.outcome, result.verified) == (ProbeOutcome.UNVERIFIED, False)
    expected = "signed by another key" if kind == "http" else "does not verify with the policy key"
    assert expected in result.detail


# --- answers that prove nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda nonce: json_answer({"v": 1, "nonce": nonce}), "no signature in the answer"),
        (
            lambda nonce: json_answer({"v": 1, "nonce": nonce, "signature": "A" * 86 + "=="}),
            "does not verify with the policy key",
        ),
        (lambda nonce: json_answer({"v": 1, "nonce": "00" * 32, "signature": ""}), "another nonce"),
        (lambda nonce: json_answer({"v": 2, "nonce": nonce}), "unknown answer version 2"),
        (
            lambda nonce: (200, {"Content-Type": "text/html"}, b"<h1>Please log in</h1>"),
            "not the responder's JSON",
        ),
        (
            lambda nonce: (302, {"Location": "http://portal.example/login"}, b""),
            "status is not 200",
        ),
    ],
)
def test_an_http_answer_without_a_valid_signature_is_unverified(
    fake_http: Callable[..., FakeHttp], policy_key: bytes, answer: Answer, reason: str
) -> None:
    fake = fake_http(answer)
    result = only(ProbeSpec("web", "http", fake.url(), policy_key))
    assert (result.outcome, result.verified) == (ProbeOutcome.UNVERIFIED, False)
    assert reason in result.detail
    assert result.detail.startswith("HTTP ")


def test_an_http_answer_signed_by_another_key_is_unverified_and_says_so(
    fake_http: Callable[..., FakeHttp], policy_key: bytes, other_key: Ed25519PrivateKey
) -> None:
    fake = fake_http(signed_by(other_key, announce=True))
    result = only(ProbeSpec("web", "http", fake.url(), policy_key))
    assert result.outcome is ProbeOutcome.UNVERIFIED
    assert f"signed by another key {encode_public_key(raw_public_key(other_key))}" in result.detail


def test_a_captive_portal_redirect_counts_as_reached_when_no_key_is_asked(
    fake_http: Callable[..., FakeHttp],
) -> None:
    fake = fake_http(lambda nonce: (302, {"Location": "http://portal.example/"}, b""))
    result = only(ProbeSpec("web", "http", fake.url()))
    assert result.outcome is ProbeOutcome.REACHED
    assert "HTTP 302 Found" in result.detail
    assert "redirecting to http://portal.example/" in result.detail


def test_an_https_answer_with_an_untrusted_certificate_is_unverified_without_a_key(
    fake_http: Callable[..., FakeHttp], self_signed_tls: ssl.SSLContext
) -> None:
    fake = fake_http(lambda nonce: (200, {}, b"ok"), tls=self_signed_tls)
    result = only(ProbeSpec("web", "https", fake.url("https")))
    assert result.outcome is ProbeOutcome.UNVERIFIED
    assert "certificate did not verify" in result.detail


def test_an_https_answer_with_a_valid_signature_counts_whatever_the_certificate(
    fake_http: Callable[..., FakeHttp],
    self_signed_tls: ssl.SSLContext,
    responder_key: Ed25519PrivateKey,
    policy_key: bytes,
) -> None:
    fake = fake_http(signed_by(responder_key), tls=self_signed_tls)
    result = only(ProbeSpec("web", "https", fake.url("https"), policy_key))
    assert (result.outcome, result.verified) == (ProbeOutcome.REACHED, True)


def test_a_tcp_answer_that_is_not_a_signature_is_unverified(policy_key: bytes) -> None:
    fake = FakeLine(b"SSH-2.0-OpenSSH_9.2\r\n")
    try:
        result = only(ProbeSpec("tcp", "tcp", fake.target, policy_key))
    finally:
        fake.listener.close()
    assert result.outcome is ProbeOutcome.UNVERIFIED
    assert "the signature is not base64" in result.detail


# --- nothing there ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http", "tcp"])
def test_a_refused_connection_is_unreachable(refusing_port: str, kind: str) -> None:
    target = f"http://{refusing_port}/" if kind == "http" else refusing_port
    result = only(ProbeSpec("p", cast(Any, kind), target))
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert "refused" in result.detail.lower()


def test_an_nxdomain_answer_is_unreachable(policy_key: bytes) -> None:
    fake = FakeDns(dns.rcode.NXDOMAIN)
    try:
        results = run_probes(
            [
                ProbeSpec("signed", "dns", f"probe.custos.test@{fake.server}", policy_key),
                ProbeSpec("plain", "dns", f"probe.custos.test@{fake.server}"),
            ],
            10,
        )
    finally:
        fake.sock.close()
    assert [result.outcome for result in results] == [ProbeOutcome.UNREACHABLE] * 2
    assert all("answered NXDOMAIN" in result.detail for result in results)


def test_a_dns_server_that_never_answers_is_unreachable_after_the_probe_timeout(
    silent_udp_port: str,
) -> None:
    result = only(ProbeSpec("dns", "dns", f"probe.custos.test@{silent_udp_port}", None, 0.5))
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert "no answer" in result.detail
    assert result.elapsed_ms < 500 + 1000 * BOUND_SLACK_SECONDS


def test_a_name_the_system_resolves_locally_is_reached() -> None:
    result = only(ProbeSpec("dns", "dns", "localhost"))
    assert result.outcome is ProbeOutcome.REACHED
    assert "system resolver gave localhost" in result.detail


# --- bounds -----------------------------------------------------------------------------


def test_the_whole_call_returns_within_the_total_bound_when_nobody_answers(
    black_hole: str, policy_key: bytes
) -> None:
    specs = [
        ProbeSpec("web", "http", f"http://{black_hole}/", policy_key, timeout_seconds=30),
        ProbeSpec("tcp", "tcp", black_hole, policy_key, timeout_seconds=30),
    ]
    started = time.monotonic()
    results = run_probes(specs, total_timeout=1.0)
    took = time.monotonic() - started
    assert took < 1.0 + BOUND_SLACK_SECONDS
    assert [(r.probe_id, r.outcome, r.detail) for r in results] == [
        ("web", ProbeOutcome.UNREACHABLE, "timed out (total bound)"),
        ("tcp", ProbeOutcome.UNREACHABLE, "timed out (total bound)"),
    ]


def test_each_probe_is_bounded_by_its_own_timeout(black_hole: str, policy_key: bytes) -> None:
    spec = ProbeSpec("web", "http", f"http://{black_hole}/", policy_key, timeout_seconds=0.5)
    started = time.monotonic()
    result = only(spec, total_timeout=30)
    assert time.monotonic() - started < 0.5 + BOUND_SLACK_SECONDS
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert "timed out" in result.detail
    assert "total bound" not in result.detail


def test_probes_run_at_the_same_time_and_come_back_in_order(
    black_hole: str, responder: ResponderProcess, policy_key: bytes
) -> None:
    stalled = [
        ProbeSpec(f"stalled-{n}", "tcp", black_hole, policy_key, timeout_seconds=0.5)
        for n in range(4)
    ]
    specs = [
        stalled[0],
        ProbeSpec("ok", "tcp", responder.endpoint("tcp"), policy_key),
        *stalled[1:],
    ]
    started = time.monotonic()
    results = run_probes(specs, total_timeout=30)
    assert time.monotonic() - started < 0.5 + BOUND_SLACK_SECONDS  # one at a time would be 2 s
    assert [result.probe_id for result in results] == [spec.id for spec in specs]
    assert [result.outcome for result in results] == [
        ProbeOutcome.UNREACHABLE,
        ProbeOutcome.REACHED,
        *[ProbeOutcome.UNREACHABLE] * 3,
    ]


# --- bad configuration and local failures -----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (ProbeSpec("p", cast(Any, "ftp"), "ftp://h/"), "unknown probe kind 'ftp'"),
        (ProbeSpec("p", "tcp", "h:1", b"short"), "responder key must be 32 raw Ed25519 bytes"),
        (ProbeSpec("p", "tcp", "h:1", None, 0), "probe timeout must be positive"),
        (ProbeSpec("p", "https", "http://h/"), "needs a https:// URL"),
        (ProbeSpec("p", "http", "http://[bad/"), "bad URL"),
        (ProbeSpec("p", "tcp", "no-port"), "expected host:port"),
        (ProbeSpec("p", "dns", "name@resolver.example"), "must be an IP address"),
        (ProbeSpec("p", "dns", f"{'x' * 64}.example@127.0.0.1"), "bad name"),
    ],
)
def test_a_probe_that_cannot_run_is_an_error_with_the_reason(spec: ProbeSpec, reason: str) -> None:
    result = only(spec)
    assert result.outcome is ProbeOutcome.ERROR
    assert reason in result.detail


def test_a_total_timeout_that_is_not_positive_is_an_error_for_every_probe() -> None:
    results = run_probes([ProbeSpec("a", "tcp", "h:1"), ProbeSpec("b", "dns", "h")], 0)
    assert [result.outcome for result in results] == [ProbeOutcome.ERROR] * 2
    assert "total timeout must be positive" in results[0].detail


def test_a_probe_that_fails_locally_is_an_error_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(spec: ProbeSpec, deadline: float) -> Verdict:
        raise PermissionError("sockets are forbidden here")

    monkeypatch.setitem(cast(dict[str, probe_runner.Prober], probe_runner.PROBERS), "tcp", explode)
    result = only(ProbeSpec("p", "tcp", "127.0.0.1:9"))
    assert result.outcome is ProbeOutcome.ERROR
    assert result.detail == (
        "the probe failed locally: PermissionError: sockets are forbidden here"
    )


def test_a_dns_probe_that_needs_dnspython_is_an_error_without_it(
    monkeypatch: pytest.MonkeyPatch, policy_key: bytes
) -> None:
    monkeypatch.setitem(sys.modules, "dns", None)
    result = only(ProbeSpec("dns", "dns", "probe.custos.test@127.0.0.1", policy_key))
    assert result.outcome is ProbeOutcome.ERROR
    assert "dnspython is not installed" in result.detail


def test_no_probes_give_no_results() -> None:
    assert run_probes([], 1.0) == ()

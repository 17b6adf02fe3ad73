"""A small collection server on loopback, speaking the real protocol (agent/protocol/).

It enrolls, verifies every envelope's signature and seq the way docs/protocol.md says,
validates payloads against the payload schema, and serves a signed policy and signed
commands. Knobs make it misbehave on purpose: answer 503, refuse with a reason, ask for a
full report, sign with a key the agent never pinned.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.probes.keytext import decode_public_key, encode_public_key
from agent.protocol.auth import check_enrollment_proof, check_request, parse_authorization
from agent.protocol.documents import Command, commands_response, policy_response, receipt
from agent.protocol.envelope import decode_envelope, verify_envelope
from agent.protocol.errors import ProtocolError
from agent.protocol.payload import validate_payload


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass
class Received:
    host_id: str
    seq: int
    payload: dict[str, Any]
    body: bytes


@dataclass
class FakeState:
    server_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    tokens: set[str] = field(default_factory=lambda: {"good-token"})
    hosts: dict[str, bytes] = field(default_factory=dict)
    seqs: dict[str, set[int]] = field(default_factory=dict)
    full_hashes: set[str] = field(default_factory=set)
    reports: list[Received] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    # knobs
    fail_reports: int = 0  # answer this many report POSTs with 503
    refuse_reason: str | None = None  # refuse every report with this reason
    refuse_without_reason: int = 0  # answer this many report POSTs with a bare 404
    policy: tuple[str, str, str] | None = None  # (id, version, yaml)
    policy_signer: Ed25519PrivateKey | None = None  # None: the real server key
    commands: list[Command] = field(default_factory=list)
    commands_signer: Ed25519PrivateKey | None = None
    delay_seconds: float = 0.0
    fail_policy_gets: bool = False  # answer GET /api/v1/policy with 503
    policy_issued_shift: dt.timedelta = dt.timedelta(0)  # sign the policy as issued then


class FakeServer:
    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.state = FakeState()
        self.lock = threading.Condition()
        handler = _handler_class(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.tls_context: ssl.SSLContext | None = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.tls_context = context
            original = self.httpd.get_request

            def get_request() -> tuple[Any, Any]:
                sock, address = original()
                return context.wrap_socket(
                    sock, server_side=True, do_handshake_on_connect=False
                ), address

            self.httpd.get_request = get_request  # type: ignore[method-assign]
            # a client that refuses the certificate is the point of some tests, not an error
            self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def server_public_key(self) -> str:
        return encode_public_key(raw_public(self.state.server_key))

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for_reports(self, count: int, timeout: float) -> list[Received]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.state.reports) >= count, timeout)
            return list(self.state.reports)

    def set_policy(self, policy_id: str, version: str, yaml_text: str) -> None:
        with self.lock:
            self.state.policy = (policy_id, version, yaml_text)

    def add_recheck(self, command_id: str) -> None:
        now = dt.datetime.now(dt.timezone.utc)
        with self.lock:
            self.state.commands.append(
                Command(command_id, "recheck", now, now + dt.timedelta(hours=1))
            )

    # --- the endpoints --------------------------------------------------------------------

    def enroll(self, body: bytes) -> tuple[int, dict[str, Any]]:
        data = json.loads(body)
        public = decode_public_key(data["public_key"])
        check_enrollment_proof(data["token"], public, data["proof"])
        if data["token"] not in self.state.tokens:
            raise ProtocolError("token_invalid", "no such token")
        host_id = "h_" + uuid.uuid4().hex
        self.state.hosts[host_id] = public
        self.state.seqs[host_id] = set()
        return 201, {
            "host_id": host_id,
            "server_public_key": self.server_public_key,
            "unit": "province/city/county/unit",
            "report_interval_seconds": 3600,
        }

    def report(self, body: bytes) -> tuple[int, dict[str, Any]]:
        state = self.state
        if state.fail_reports > 0:
            state.fail_reports -= 1
            return 503, {"oops": "maintenance"}
        if state.refuse_without_reason > 0:
            state.refuse_without_reason -= 1
            return 404, {"detail": "not here"}
        if state.refuse_reason:
            raise ProtocolError(state.refuse_reason, "refused on purpose")
        envelope = decode_envelope(body)
        public = state.hosts.get(envelope.host_id)
        if public is None:
            raise ProtocolError("unknown_host", "no such host")
        verify_envelope(envelope, public)
        now = dt.datetime.now(dt.timezone.utc)
        if envelope.seq in state.seqs[envelope.host_id]:
            signed = receipt(
                state.server_key, envelope.host_id, envelope.seq, envelope.digest(), "replay", now
            )
            raise ProtocolError(
                "replay", f"seq {envelope.seq} already accepted", extra={"receipt": signed}
            )
        payload = json.loads(envelope.decoded_payload())
        validate_payload(payload)
        state.seqs[envelope.host_id].add(envelope.seq)
        need_full = False
        if payload["kind"] == "full":
            state.full_hashes.add(payload["state_hash"])
        elif payload["state_hash"] not in state.full_hashes:
            need_full = True
        state.reports.append(Received(envelope.host_id, envelope.seq, payload, body))
        self.lock.notify_all()
        ack: dict[str, Any] = {
            "accepted": envelope.seq,
            "stored": payload["kind"],
            "need_full": need_full,
            "policy": None,
        }
        if state.policy is not None:
            policy_id, version, yaml_text = state.policy
            info = policy_response(
                state.server_key, envelope.host_id, policy_id, version, yaml_text, now
            )
            ack["policy"] = {k: info[k] for k in ("id", "version", "sha256")}
        ack["receipt"] = receipt(
            state.server_key,
            envelope.host_id,
            envelope.seq,
            envelope.digest(),
            "accepted",
            now,
            need_full=need_full,
            policy=ack["policy"],
        )
        answered = set(payload["answered_commands"])
        pending = [c for c in state.commands if c.id not in answered]
        state.commands = pending
        if pending:
            signer = state.commands_signer or state.server_key
            ack["commands"] = commands_response(signer, envelope.host_id, pending, now)
        return 200, ack

    def _signed_host(self, path: str, headers: dict[str, str]) -> str:
        host_id, stamp, signature = parse_authorization(headers.get("authorization", ""))
        public = self.state.hosts.get(host_id)
        if public is None:
            raise ProtocolError("unknown_host", "no such host")
        check_request(public, "GET", path, stamp, signature, dt.datetime.now(dt.timezone.utc))
        return host_id

    def get_commands(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        host_id = self._signed_host(path, headers)
        signer = self.state.commands_signer or self.state.server_key
        now = dt.datetime.now(dt.timezone.utc)
        return 200, commands_response(signer, host_id, list(self.state.commands), now)

    def get_policy(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        host_id = self._signed_host(path, headers)
        if self.state.fail_policy_gets:
            return 503, {"oops": "maintenance"}
        if self.state.policy is None:
            return 204, None
        policy_id, version, yaml_text = self.state.policy
        signer = self.state.policy_signer or self.state.server_key
        issued = dt.datetime.now(dt.timezone.utc) + self.state.policy_issued_shift
        document = policy_response(signer, host_id, policy_id, version, yaml_text, issued)
        if headers.get("if-none-match") == f'"{document["sha256"]}"':
            return 304, None
        return 200, document


def _handler_class(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms stall

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()

        def _answer(self, status: int, document: dict[str, Any] | None) -> None:
            body = b"" if document is None else json.dumps(document).encode()
            self.send_response(status)
            if document is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with server.lock:
                server.state.requests.append((method, self.path, headers))
                delay = server.state.delay_seconds
            if delay:
                threading.Event().wait(delay)
            document: dict[str, Any] | None
            try:
                with server.lock:
                    if method == "POST" and self.path == "/api/v1/enroll":
                        status, document = server.enroll(body)
                    elif method == "POST" and self.path == "/api/v1/reports":
                        status, document = server.report(body)
                    elif method == "GET" and self.path == "/api/v1/policy":
                        status, document = server.get_policy(self.path, headers)
                    elif method == "GET" and self.path == "/api/v1/commands":
                        status, document = server.get_commands(self.path, headers)
                    else:
                        status, document = 404, {"detail": "no such endpoint"}
            except ProtocolError as exc:
                status = exc.http_status
                document = {**exc.extra, "error": exc.reason, "detail": exc.detail}
            self._answer(status, document)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


@contextmanager
def running_server(tls: tuple[Path, Path] | None = None) -> Iterator[FakeServer]:
    server = FakeServer(tls).start()
    try:
        yield server
    finally:
        server.stop()

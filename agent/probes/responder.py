"""The probe responder: a tiny server, run *outside* an institution's network, that signs nonces.

An agent on a machine that must be offline sends a fresh random nonce; the responder signs
`b"custos-probe-v1\\x00" + nonce` with its Ed25519 key (see `agent.probes.nonce`). The
policy names the responder's public key, so only this server's answer can turn a probe into
REACHED: a captive portal or an intranet fake cannot forge it. The responder keeps no state:
a nonce is signed and forgotten, never stored.

Usage:
    python -m agent.probes.responder --key FILE --generate-key     # new key, prints public key
    python -m agent.probes.responder --key FILE --print-public-key
    python -m agent.probes.responder --key FILE --http 0.0.0.0:8080 --tcp 0.0.0.0:7007 \\
        --dns 0.0.0.0:5353

It prints one `listening <kind> <host>:<port>` line per listener (port 0 picks a free one),
logs one line per request to stderr and stops cleanly (exit 0) on SIGTERM or SIGINT.

Answers (nonce: 64 hex digits = 32 bytes; signature: base64 of 64 bytes):
    HTTP  GET <any path>?custos-nonce=<hex>  (other query parameters are ignored)
          -> 200 application/json {"v":1,"nonce":"<hex>","signature":"<base64>","key":"ed25519:…"}
          "key" is informational: agents never trust it, they only use it to report that an
          answer was signed by another key than the policy's. A missing or malformed nonce
          is 400; GET /healthz is 200 {"status":"ok"} for load balancers and monitoring.
    TCP   request line  `CUSTOS-PROBE/1 <hex>\\r\\n`  -> `<base64>\\r\\n`, then close;
          a bad request gets `ERR <reason>\\r\\n`.
    DNS   (UDP) TXT query for `<hex[:32]>.<hex[32:]>.<any name>` -> one TXT string, the
          base64 signature, TTL 0. Every other query gets an empty NOERROR answer (never
          NXDOMAIN: resolvers that minimise query names ask for the parent names first, and
          an NXDOMAIN there would hide the nonce name). Delegate a zone to this server, or
          let agents ask it directly with `name@server`. Needs dnspython.

Bounds: at most MAX_CONCURRENT requests per listener at a time (more are dropped), a
10-second socket timeout per connection, request lines of at most 512 bytes (TCP) and
2048 bytes (HTTP path), UDP datagrams of at most 4096 bytes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import signal
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.errors import ConfigError
from agent.probes.dns import nonce_from_labels
from agent.probes.http import NONCE_PARAMETER
from agent.probes.keytext import encode_public_key
from agent.probes.nonce import decode_nonce, encode_signature, sign_nonce
from agent.probes.tcp import REQUEST_PREFIX, parse_host_port

MAX_CONCURRENT = 64
SOCKET_TIMEOUT_SECONDS = 10.0
MAX_HTTP_PATH = 2048
MAX_DATAGRAM = 4096
MAX_REQUEST_LINE = 512

log = logging.getLogger("custos.probe_responder")


class Signer:
    """The responder's key: signs nonces, knows its public text form."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key_text = encode_public_key(raw)

    def signature_text(self, nonce: bytes) -> str:
        return encode_signature(sign_nonce(self._private_key, nonce))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the key file: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 key")
    return key


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """A new key written to `path` (PEM, mode 0600); an existing file is never overwritten."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError(f"{path}: already exists; refusing to overwrite a key") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the key file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return key


# --- servers ----------------------------------------------------------------------------


class _ResponderServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded stream server that holds the signer and refuses work beyond MAX_CONCURRENT."""

    daemon_threads = True  # a stuck client must not delay a clean stop
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[socketserver.BaseRequestHandler],
        signer: Signer,
    ) -> None:
        self.signer = signer
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            log.warning("busy: dropped a request from %s", _format_peer(client_address))
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def bound_address(self) -> str:
        return _format_peer(self.server_address)


class _DatagramServer(_ResponderServer, socketserver.UDPServer):
    max_packet_size = MAX_DATAGRAM
    allow_reuse_address = False  # for UDP it would let a second server share the port silently


class _HttpHandler(BaseHTTPRequestHandler):
    server: _ResponderServer
    server_version = "custos-probe-responder/1"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_SECONDS

    def do_GET(self) -> None:
        if len(self.path) > MAX_HTTP_PATH:
            self._reply(414, {"error": "request path too long"})
            return
        parts = urlsplit(self.path)
        if parts.path == "/healthz":
            self._reply(200, {"status": "ok"})
            return
        values = parse_qs(parts.query).get(NONCE_PARAMETER, [])
        if len(values) != 1:
            self._reply(400, {"error": f"give exactly one {NONCE_PARAMETER} parameter"})
            return
        try:
            nonce = decode_nonce(values[0])
        except ValueError as exc:
            self._reply(400, {"error": str(exc)})
            return
        signer = self.server.signer
        self._reply(
            200,
            {
                "v": 1,
                "nonce": nonce.hex(),
                "signature": signer.signature_text(nonce),
                "key": signer.public_key_text,
            },
        )

    def _reply(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("http %s %r %s", _format_peer(self.client_address), self.requestline[:200], code)

    def log_error(self, format: str, *args: Any) -> None:
        """Silent: send_error also logs the request with its status, which is the one line."""


class _TcpHandler(socketserver.StreamRequestHandler):
    server: _ResponderServer
    timeout = SOCKET_TIMEOUT_SECONDS

    def handle(self) -> None:
        peer = _format_peer(self.client_address)
        try:
            line = self.rfile.readline(MAX_REQUEST_LINE + 1)
        except TimeoutError:
            log.info("tcp %s no request line within %g s", peer, SOCKET_TIMEOUT_SECONDS)
            return
        try:
            nonce = _tcp_nonce(line)
        except ValueError as exc:
            log.info("tcp %s bad request: %s", peer, exc)
            self.wfile.write(f"ERR {exc}\r\n".encode("ascii", "replace"))
            return
        self.wfile.write(f"{self.server.signer.signature_text(nonce)}\r\n".encode("ascii"))
        log.info("tcp %s signed", peer)


def _tcp_nonce(line: bytes) -> bytes:
    if len(line) > MAX_REQUEST_LINE or not line.endswith(b"\n"):
        raise ValueError("expected one line ending in CRLF")
    words = line.decode("ascii", "replace").split()
    if len(words) != 2 or words[0] != REQUEST_PREFIX:
        raise ValueError(f"expected '{REQUEST_PREFIX} <nonce-hex>'")
    return decode_nonce(words[1])


class _DnsHandler(socketserver.BaseRequestHandler):
    server: _ResponderServer

    def handle(self) -> None:
        data, sock = self.request
        peer = _format_peer(self.client_address)
        answer, what = dns_answer(data, self.server.signer)
        if answer is None:
            log.info("dns %s dropped: %s", peer, what)
            return
        sock.sendto(answer, self.client_address)
        log.info("dns %s %s", peer, what)


def dns_answer(query_wire: bytes, signer: Signer) -> tuple[bytes | None, str]:
    """The wire answer to one DNS query (None to drop it) and a line saying what it was."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.opcode
    import dns.rcode
    import dns.rdatatype
    import dns.rrset

    try:
        query = dns.message.from_wire(query_wire)
    except dns.exception.DNSException as exc:
        return None, f"not a DNS query ({exc})"
    if query.flags & dns.flags.QR:
        return None, "a response, not a query"
    response = dns.message.make_response(query)
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        response.set_rcode(dns.rcode.NOTIMP)
        return response.to_wire(), "NOTIMP"
    question = query.question[0]
    response.flags |= dns.flags.AA
    nonce = nonce_from_labels(question.name.labels)
    if question.rdtype != dns.rdatatype.TXT or nonce is None:
        return response.to_wire(), f"empty answer for {question.name} {question.rdtype.name}"
    signature = signer.signature_text(nonce)
    response.answer.append(dns.rrset.from_text(question.name, 0, "IN", "TXT", f'"{signature}"'))
    return response.to_wire(), f"signed TXT {question.name}"


_SERVERS: dict[str, tuple[type[_ResponderServer], type[socketserver.BaseRequestHandler]]] = {
    "http": (_ResponderServer, _HttpHandler),
    "tcp": (_ResponderServer, _TcpHandler),
    "dns": (_DatagramServer, _DnsHandler),
}


def _format_peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


# --- command line -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agent.probes.responder",
        description="Sign Custos probe nonces over HTTP, TCP and DNS (run outside the intranet).",
    )
    parser.add_argument("--key", required=True, type=Path, help="Ed25519 private key (PEM)")
    parser.add_argument(
        "--generate-key", action="store_true", help="create FILE with a new key (mode 0600)"
    )
    parser.add_argument(
        "--print-public-key", action="store_true", help="print the key for the policy"
    )
    for kind in _SERVERS:
        parser.add_argument(f"--{kind}", metavar="HOST:PORT", help=f"serve {kind} here")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _log_requests_to_stderr()
    listen: dict[str, tuple[str, int]] = {}
    for kind in _SERVERS:
        text = getattr(args, kind)
        if text is None:
            continue
        try:
            listen[kind] = parse_host_port(text, listening=True)
        except ValueError as exc:
            parser.error(f"--{kind}: {exc}")
    if "dns" in listen and importlib.util.find_spec("dns") is None:
        parser.error("--dns needs dnspython (pip install dnspython)")
    try:
        key = generate_key_file(args.key) if args.generate_key else load_private_key(args.key)
    except ConfigError as exc:
        print(f"responder: {exc}", file=sys.stderr)
        return 2
    signer = Signer(key)
    if args.generate_key or args.print_public_key:
        print(signer.public_key_text, flush=True)
    if not listen:
        if args.generate_key or args.print_public_key:
            return 0
        parser.error("nothing to serve: give --http, --tcp and/or --dns")
    return _serve(listen, signer)


def _log_requests_to_stderr() -> None:
    """One line per request on stderr, whatever logging a caller (`custos-agent`) set up."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _serve(listen: dict[str, tuple[str, int]], signer: Signer) -> int:
    """Serve until SIGTERM or SIGINT, then stop every listener and return 0.

    The signal handlers go in before anything is announced: whoever reads the "listening"
    lines may stop the responder at once, and that must still be a clean stop.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    servers: list[_ResponderServer] = []
    serving: list[_ResponderServer] = []
    try:
        for kind, address in listen.items():
            server_class, handler = _SERVERS[kind]
            try:
                servers.append(server_class(address, handler, signer))
            except OSError as exc:
                print(
                    f"responder: cannot listen on {kind} {_format_peer(address)}: {exc}",
                    file=sys.stderr,
                )
                return 1
            print(f"listening {kind} {servers[-1].bound_address()}", flush=True)
        for server in servers:
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
            ).start()
            serving.append(server)
        while not stop.wait(0.5):
            pass
        log.info("stopped")
        return 0
    finally:
        for server in serving:
            server.shutdown()  # only for servers whose loop runs: it waits for that loop
        for server in servers:
            server.server_close()
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)


if __name__ == "__main__":
    raise SystemExit(main())

"""A man in the middle between real agents and a real server, on loopback.

It forwards every request to the server unchanged and hands each exchange to a `tamper`
function first, which may answer in the server's place (a forged acknowledgement) or swap
the server's answer for another (one host's signed policy served to another host). This is
the position of a plain-HTTP eavesdropper or a TLS-terminating proxy: it can read and write
everything, but holds no key.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Exchange:
    """One request, and the answer the agent gets (the server's, unless tampered with)."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: int = 0
    answer: bytes = b""
    answer_headers: dict[str, str] = field(default_factory=dict)


# Called before forwarding (`forwarded` False: returning True answers without the server)
# and after (`forwarded` True: may replace status and answer).
Tamper = Callable[[Exchange, bool], bool]


def honest(exchange: Exchange, forwarded: bool) -> bool:
    return False


class ManInTheMiddle:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.tamper: Tamper = honest
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def handle(self, exchange: Exchange) -> Exchange:
        with self.lock:
            tamper = self.tamper
        if not tamper(exchange, False):
            self._forward(exchange)
            tamper(exchange, True)
        with self.lock:
            self.exchanges.append(exchange)
        return exchange

    def _forward(self, exchange: Exchange) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in exchange.headers.items() if k not in ("host", "connection")}
            connection.request(exchange.method, exchange.path, exchange.body or None, headers)
            response = connection.getresponse()
            exchange.status, exchange.answer = response.status, response.read()
            exchange.answer_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()


def _handler(mitm: ManInTheMiddle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            exchange = Exchange(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            mitm.handle(exchange)
            self.send_response(exchange.status)
            for name in ("content-type", "etag"):
                if name in exchange.answer_headers:
                    self.send_header(name, exchange.answer_headers[name])
            self.send_header("Content-Length", str(len(exchange.answer)))
            self.end_headers()
            self.wfile.write(exchange.answer)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

    return Handler


@contextmanager
def man_in_the_middle(upstream_port: int) -> Iterator[ManInTheMiddle]:
    mitm = ManInTheMiddle(upstream_port)
    mitm.thread.start()
    try:
        yield mitm
    finally:
        mitm.httpd.shutdown()
        mitm.httpd.server_close()

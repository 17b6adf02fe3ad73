"""An https:// server URL whose port speaks plain HTTP: told at once, not after a timeout.

A plain-HTTP server (gunicorn behind `custos-server run`, for one) reads a TLS ClientHello as
the start of a request line and waits for the line to end, so an HTTPS client waits out its
handshake timeout (10 s) and then reports only a timeout. This probe sends a ClientHello
followed by an empty line: a plain-HTTP server answers the garbled request at once, with
"HTTP/1.x 400" or (taking it for HTTP/0.9) a bare HTML error page; a TLS server answers the
hello with a TLS record, its own hello (0x16) or an alert (0x15), never with text. Only such a
positive answer counts; anything else (no answer, a refused connection, TLS) leaves the real
request to report what it finds. Nothing secret is sent.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit, urlunsplit

PROBE_SECONDS = 3.0
_PLAIN_ANSWERS = (b"HTTP/", b"<")  # a status line, or the HTML of an HTTP/0.9 error answer
_ANSWER_BYTES = 5


def plain_http_url(server: str, proxy: str | None = None) -> str | None:
    """`server` as http:// when it is an https:// URL whose port answers in plain HTTP.

    None otherwise, and always through a proxy: the probe cannot see past one."""
    parts = urlsplit(server)
    if parts.scheme != "https" or not parts.hostname or proxy:
        return None
    if not speaks_plain_http(parts.hostname, parts.port or 443):
        return None
    return urlunsplit(parts._replace(scheme="http"))


def speaks_plain_http(host: str, port: int, timeout: float = PROBE_SECONDS) -> bool:
    """Whether host:port answers a TLS ClientHello the way a plain-HTTP server does."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(_client_hello(host) + b"\r\n\r\n")
            answer = b""
            while len(answer) < _ANSWER_BYTES:
                chunk = connection.recv(_ANSWER_BYTES - len(answer))
                if not chunk:
                    break
                answer += chunk
    except OSError:  # refused, unreachable, timed out, reset: not for this probe to say
        return False
    return answer.startswith(_PLAIN_ANSWERS)


def _client_hello(host: str) -> bytes:
    """The first flight of a TLS handshake with `host`, as bytes (nothing is verified: the
    handshake never goes further than the server's first answer)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_name = None if _is_address(host) else host
    tls = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with contextlib.suppress(ssl.SSLWantReadError):  # written; waiting for the server
        tls.do_handshake()
    return outgoing.read()


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

"""HTTP(S) to the collection server: TLS verified, optionally pinned, proxied, bounded in time.

One `httpx.Client` per process, reused for every request (its connection pool and TLS
context are the costly parts; a new client per report would also grow memory). Verification
is always on: against the system's trust store, or only against `ca_bundle` when the unit
runs its own CA. `pin_sha256` additionally pins the SHA-256 of the server certificate (DER).
The pin is checked twice: right after each TLS handshake, before a byte of the request is
written (an impostor with a certificate the CA store accepts never sees the enrollment token
or a report), and again on every response before a byte of its body is trusted. Environment
proxy variables are ignored (`trust_env=False`): a system service gets its proxy from
enrollment, explicitly.

`post_report` sorts every answer into what the spool must do with the report:

    ACCEPTED   2xx acknowledgement                  delete it, record the ack
    DUPLICATE  4xx `replay`: the server has it      delete it, as delivered
               (both only with a receipt the pinned server key signed for exactly that
               report, agent.delivery; without one the report is kept: RETRY)
    REFUSED    4xx with any other protocol reason   move it to rejected/, never resend
    RETRY      network or TLS failure, 5xx, or an   keep it, try again after a backoff
               answer that carries no protocol reason (a proxy's error page is no verdict)
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from agent import __version__
from agent.errors import CustosError
from agent.protocol.errors import REASONS
from agent.state import Enrollment

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # policies and acks are small; a bigger answer is wrong
_PIN = re.compile(r"^[0-9a-f]{64}$")


class TransportError(CustosError):
    """No trustworthy answer: unreachable, timed out, TLS or pin failure, oversized answer."""


def _check_pin(der: bytes | None, pin: str) -> None:
    if not der:
        raise TransportError("no server certificate to compare with the pinned one")
    seen = hashlib.sha256(der).hexdigest()
    if not hmac.compare_digest(seen, pin):
        raise TransportError(f"server certificate sha256 {seen} does not match the pinned {pin}")


def pinned_context(context: ssl.SSLContext, pin: str) -> ssl.SSLContext:
    """`context`, made to compare the server certificate with `pin` at the end of every
    handshake (plain TLS sockets, and TLS inside a proxy's TLS tunnel). A mismatch fails the
    connection as an SSL error, so the HTTP client never writes the request."""

    def verify(der: bytes | None) -> None:
        try:
            _check_pin(der, pin)
        except TransportError as exc:
            raise ssl.SSLError(f"certificate pin mismatch: {exc}") from None

    class PinnedSocket(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            super().do_handshake(block)
            verify(self.getpeercert(True))

    class PinnedObject(ssl.SSLObject):
        def do_handshake(self) -> None:
            super().do_handshake()
            verify(self.getpeercert(True))

    context.sslsocket_class = PinnedSocket
    context.sslobject_class = PinnedObject
    return context


def normalise_pin(text: str) -> str:
    """A SHA-256 fingerprint as 64 lowercase hex digits; colons and spaces are allowed in."""
    pin = re.sub(r"[\s:]", "", text).lower()
    if not _PIN.match(pin):
        raise ValueError(f"not a SHA-256 fingerprint (64 hex digits): {text!r}")
    return pin


@dataclass(frozen=True)
class TransportOptions:
    ca_bundle: Path | None = None
    pin_sha256: str | None = None
    proxy: str | None = None
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT

    @classmethod
    def of(cls, enrollment: Enrollment) -> TransportOptions:
        return cls(
            ca_bundle=Path(enrollment.ca_bundle) if enrollment.ca_bundle else None,
            pin_sha256=enrollment.pin_sha256,
            proxy=enrollment.proxy,
        )


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: httpx.Headers

    def json_object(self) -> dict[str, Any] | None:
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def refusal(self) -> tuple[str, str] | None:
        """(reason, detail) when this is a 4xx carrying a protocol reason; else None."""
        if not 400 <= self.status < 500:
            return None
        data = self.json_object()
        if data is None or data.get("error") not in REASONS:
            return None
        return str(data["error"]), str(data.get("detail", ""))[:500]


class Transport:
    """Requests to one server, through one reused client."""

    def __init__(self, server: str, options: TransportOptions | None = None) -> None:
        self.server = server.rstrip("/")
        self.options = options or TransportOptions()
        if self.options.pin_sha256 is not None and not self.server.startswith("https://"):
            raise TransportError("certificate pinning needs an https:// server URL")
        self._pin = normalise_pin(self.options.pin_sha256) if self.options.pin_sha256 else None
        self._client = httpx.Client(
            verify=self._tls_context(),
            proxy=self.options.proxy,
            timeout=httpx.Timeout(
                connect=self.options.connect_timeout,
                read=self.options.read_timeout,
                write=self.options.read_timeout,
                pool=self.options.connect_timeout,
            ),
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": f"custos-agent/{__version__}"},
        )

    def _tls_context(self) -> ssl.SSLContext:
        ca_bundle = self.options.ca_bundle
        try:
            if ca_bundle is not None:
                context = ssl.create_default_context(cafile=str(ca_bundle))
            else:
                context = ssl.create_default_context()
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"cannot load the CA bundle {ca_bundle}: {exc}") from exc
        return pinned_context(context, self._pin) if self._pin else context

    def url(self, path: str) -> str:
        return self.server + path

    def signed_path(self, path: str) -> str:
        """The path (with query) as the server receives it, for signed requests."""
        return httpx.URL(self.url(path)).raw_path.decode("ascii")

    def request(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        request = self._client.build_request(
            method, self.url(path), content=content, headers=headers
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {self.url(path)}: {_describe(exc)}") from exc
        try:
            self._check_pin(response)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise TransportError(f"answer to {path} is over {MAX_ANSWER_BYTES} bytes")
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {self.url(path)}: {_describe(exc)}") from exc
        finally:
            response.close()
        return Answer(response.status_code, bytes(body), response.headers)

    def _check_pin(self, response: httpx.Response) -> None:
        """Compare the peer certificate of *this* response's connection with the pin."""
        if self._pin is None:
            return
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        _check_pin(ssl_object.getpeercert(True) if ssl_object is not None else None, self._pin)

    def close(self) -> None:
        self._client.close()


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


# --- delivering one report ------------------------------------------------------------------


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"
    RETRY = "retry"


@dataclass(frozen=True)
class PostResult:
    outcome: Outcome
    # The answer's JSON for ACCEPTED (the acknowledgement) and DUPLICATE (the `replay`
    # refusal); both carry the server's signed receipt, which the caller must check.
    ack: dict[str, Any] | None = None
    reason: str = ""
    detail: str = ""
    status: int = 0


def post_report(transport: Transport, body: bytes, seq: int) -> PostResult:
    """POST one spooled envelope and classify the answer (see the module docstring)."""
    try:
        answer = transport.request(
            "POST", "/api/v1/reports", content=body, headers={"Content-Type": "application/json"}
        )
    except TransportError as exc:
        return PostResult(Outcome.RETRY, detail=str(exc))
    if 200 <= answer.status < 300:
        ack = answer.json_object()
        if ack is None or ack.get("accepted") != seq:
            return PostResult(
                Outcome.RETRY,
                detail=f"answer {answer.status} is not an acknowledgement of seq {seq}",
                status=answer.status,
            )
        return PostResult(Outcome.ACCEPTED, ack=ack, status=answer.status)
    refusal = answer.refusal()
    if refusal is None:
        return PostResult(
            Outcome.RETRY,
            detail=f"HTTP {answer.status} without a protocol reason",
            status=answer.status,
        )
    reason, detail = refusal
    if reason == "replay":
        return PostResult(
            Outcome.DUPLICATE,
            ack=answer.json_object(),
            reason=reason,
            detail=detail,
            status=answer.status,
        )
    return PostResult(Outcome.REFUSED, reason=reason, detail=detail, status=answer.status)

"""HTTP and HTTPS probes: GET the policy's URL and judge what answered.

Without a responder key any HTTP answer counts (REACHED), and for https the certificate must
verify: an answer from a host that cannot prove its name is only UNVERIFIED.

With a responder key the agent appends `custos-nonce=<hex>` to the URL and expects the
responder's JSON (`{"v":1,"nonce":"<hex>","signature":"<base64>"}`, see
`agent.probes.responder`). TLS verification is then *off*, on purpose: the Ed25519 signature
over our fresh nonce already proves the responder saw this request, which is the only thing
the probe wants to know. A certificate check would add nothing but failure modes (an expired
or self-signed certificate on the responder; an institution's TLS-intercepting proxy that
relays the request, which is internet access all the same and must still be REACHED).

Proxy settings from the environment are ignored (`trust_env=False`): the probe asks whether
this machine reaches the endpoint itself, and must not depend on who started the agent.
"""

from __future__ import annotations

import json
import ssl
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from agent.policy.model import ProbeSpec
from agent.probes.nonce import new_nonce
from agent.probes.verdict import Verdict, answered, misconfigured, unproven, unreachable

if TYPE_CHECKING:
    import httpx

NONCE_PARAMETER = "custos-nonce"
MAX_ANSWER_BYTES = 64 * 1024  # the responder's answer is ~200 bytes; a portal page is not read
_HEADERS = {"User-Agent": "custos-agent-probe/1", "Cache-Control": "no-cache"}


def probe_http(spec: ProbeSpec, deadline: float) -> Verdict:
    """GET `spec.target` before `deadline` (time.monotonic) and judge the answer."""
    import httpx  # here, not at the top: importing agent.probes must stay cheap

    try:
        scheme = urlsplit(spec.target).scheme.lower()
    except ValueError as exc:
        return misconfigured(f"bad URL {spec.target!r}: {exc}")
    if scheme != spec.kind:
        return misconfigured(f"a {spec.kind} probe needs a {spec.kind}:// URL, not {spec.target!r}")
    nonce = new_nonce() if spec.responder_key is not None else b""
    url = url_with_nonce(spec.target, nonce) if nonce else spec.target
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return unreachable("no time left to try")
    try:
        with (
            httpx.Client(
                # Loading the trust store costs ~0.1 s; plain http never needs it
                # (redirects are not followed, so no TLS is ever negotiated).
                verify=spec.kind == "https" and spec.responder_key is None,
                trust_env=False,
                follow_redirects=False,
                timeout=remaining,
            ) as client,
            client.stream("GET", url, headers=_HEADERS) as response,
        ):
            what = describe_response(response)
            if spec.responder_key is None:
                return answered(what, None, nonce, None)
            return _judge_signed_answer(what, response, spec.responder_key, nonce)
    except httpx.TimeoutException as exc:
        return unreachable(f"timed out ({type(exc).__name__}) after {remaining:.3g} s")
    except httpx.ConnectError as exc:
        tls_problem = _tls_failure(exc)
        if tls_problem:
            return unproven(f"something answered but TLS failed: {tls_problem}")
        return unreachable(f"could not connect: {exc}")
    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
        return unproven(f"connected, but the answer broke off or is not HTTP: {exc}")
    except httpx.DecodingError as exc:
        return unproven(f"the answer's content encoding is broken: {exc}")
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        return misconfigured(f"bad URL {spec.target!r}: {exc}")


def url_with_nonce(url: str, nonce: bytes) -> str:
    """`url` with `custos-nonce=<hex>` added to its query (after `&` when it has one)."""
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    return urlunsplit(parts._replace(query=f"{query}{NONCE_PARAMETER}={nonce.hex()}", fragment=""))


def describe_response(response: httpx.Response) -> str:
    """Who answered and how: status, peer address, Server header, redirect target."""
    parts = [f"HTTP {response.status_code} {response.reason_phrase}".rstrip()]
    peer = _peer_address(response)
    if peer:
        parts.append(f"from {peer}")
    server = response.headers.get("server")
    if server:
        parts.append(f"(server: {server[:80]})")
    location = response.headers.get("location")
    if location and response.is_redirect:
        parts.append(f"redirecting to {location[:200]}")
    return " ".join(parts)


def _judge_signed_answer(
    what: str, response: httpx.Response, responder_key: bytes, nonce: bytes
) -> Verdict:
    if response.status_code != 200:
        return unproven(f"{what}; not the responder's answer (status is not 200)")
    body = _read_bounded(response)
    if body is None:
        return unproven(f"{what}; the answer is larger than {MAX_ANSWER_BYTES} bytes")
    document = _json_object(body)
    if document is None:
        return unproven(f"{what}; no signature in the answer (not the responder's JSON)")
    if document.get("v") != 1:
        return unproven(f"{what}; unknown answer version {document.get('v')!r}")
    echoed = document.get("nonce")
    if not isinstance(echoed, str) or echoed.lower() != nonce.hex():
        return unproven(f"{what}; the answer is for another nonce (replayed or forged)")
    signature = document.get("signature")
    announced_key = document.get("key")
    return answered(
        what,
        responder_key,
        nonce,
        signature if isinstance(signature, str) else None,
        announced_key if isinstance(announced_key, str) else None,
    )


def _read_bounded(response: httpx.Response) -> bytes | None:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            return None
    return bytes(body)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _peer_address(response: httpx.Response) -> str:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return ""
    try:
        address = stream.get_extra_info("server_addr")
    except OSError:
        return ""
    if not isinstance(address, tuple) or len(address) < 2:
        return ""
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _tls_failure(exc: BaseException) -> str:
    """The TLS error behind a connect error, if that is what it was ("" otherwise)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"certificate did not verify ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return ""

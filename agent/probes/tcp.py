"""TCP probes: connect to "host:port"; with a responder key, ask for a signed nonce.

Without a key a completed connection is the answer (REACHED). With a key the agent sends one
line, `CUSTOS-PROBE/1 <nonce-hex>\\r\\n`, and expects one line back: the base64 signature
(see `agent.probes.responder`). Anything else that accepted the connection (a transparent
proxy, a firewall that completes every handshake) is UNVERIFIED.
"""

from __future__ import annotations

import socket
import time

from agent.policy.model import ProbeSpec
from agent.probes.nonce import new_nonce
from agent.probes.verdict import Verdict, answered, misconfigured, unproven, unreachable

REQUEST_PREFIX = "CUSTOS-PROBE/1"
MAX_ANSWER_LINE = 512  # a signature line is 90 bytes; more than this is not the responder


def parse_host_port(target: str, *, listening: bool = False) -> tuple[str, int]:
    """`host:port` or `[v6-address]:port`; ValueError says what is wrong.

    Port 0 is only good for `listening` (the OS picks a free port), never to connect to.
    """
    host, sep, port_text = target.rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected host:port, got {target!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets: [{host}]:{port_text}")
    lowest = 0 if listening else 1
    if not port_text.isdigit() or not lowest <= int(port_text) < 65536:
        raise ValueError(f"bad port {port_text!r} in {target!r}")
    return host, int(port_text)


def probe_tcp(spec: ProbeSpec, deadline: float) -> Verdict:
    """Connect to `spec.target` before `deadline` (time.monotonic) and judge the answer."""
    try:
        host, port = parse_host_port(spec.target)
    except ValueError as exc:
        return misconfigured(str(exc))
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return unreachable("no time left to try")
    try:
        sock = socket.create_connection((host, port), timeout=remaining)
    except socket.gaierror as exc:
        return unreachable(f"name {host!r} not resolved: {exc.strerror or exc}")
    except TimeoutError:
        return unreachable(f"connect to {spec.target} timed out after {remaining:.3g} s")
    except OSError as exc:
        return unreachable(f"could not connect to {spec.target}: {exc.strerror or exc}")
    with sock:
        what = f"TCP connection accepted by {_peer(sock)}"
        if spec.responder_key is None:
            return answered(what, None, b"", None)
        nonce = new_nonce()
        try:
            line = _exchange(sock, f"{REQUEST_PREFIX} {nonce.hex()}\r\n".encode("ascii"), deadline)
        except TimeoutError:  # like an HTTP read time-out: nothing answered in time
            return unreachable(f"{what}, but no answer line came before the timeout")
        except OSError as exc:
            return unproven(f"{what}; the connection broke off: {exc.strerror or exc}")
        if line is None:
            return unproven(f"{what}; the answer line is longer than {MAX_ANSWER_LINE} bytes")
        return answered(what, spec.responder_key, nonce, line.decode("ascii", "replace"))


def _exchange(sock: socket.socket, request: bytes, deadline: float) -> bytes | None:
    """Send `request`, read one line back (None when it is too long) before `deadline`."""
    sock.settimeout(max(deadline - time.monotonic(), 0.001))
    sock.sendall(request)
    answer = bytearray()
    while b"\n" not in answer:
        if len(answer) > MAX_ANSWER_LINE:
            return None
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(MAX_ANSWER_LINE)
        if not chunk:
            break
        answer += chunk
    line = bytes(answer).split(b"\n", 1)[0].rstrip(b"\r")
    return line if len(line) <= MAX_ANSWER_LINE else None


def _peer(sock: socket.socket) -> str:
    try:
        host, port = sock.getpeername()[:2]
    except OSError:  # reset right after the handshake: it still answered
        return "a peer that reset at once"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

"""DNS probes: does a name outside resolve, and (with a key) does the responder sign for it?

Target forms:
    name              ask the system resolver
    name@server       ask `server` ("1.2.3.4", "1.2.3.4:5353", "[2001:db8::1]:53") directly
                      over UDP, bypassing the system resolver: this shows whether the machine
                      can talk to an outside DNS server itself

Without a responder key:
    name          REACHED when the system resolver (getaddrinfo: hosts file, nsswitch, the
                  configured servers) gives an address
    name@server   REACHED when that server answers NOERROR for the A query (the answer
                  lists the records, or says there were none)

With a responder key the probe asks for TXT at `<nonce-hex[:32]>.<nonce-hex[32:]>.<name>`
and expects the base64 signature as the TXT string (see `agent.probes.responder`). The
64-digit nonce is split in two labels because a DNS label holds at most 63 characters.
This works through recursive resolvers when `name` is delegated to the responder, or
directly with `name@responder`.

NXDOMAIN, SERVFAIL, REFUSED and time-outs are UNREACHABLE: the name did not resolve. Signed
and `name@server` probes need dnspython (imported only when such a probe runs).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.policy.model import ProbeSpec
from agent.probes.nonce import NONCE_BYTES, decode_nonce, new_nonce
from agent.probes.verdict import Verdict, answered, misconfigured, unproven, unreachable

if TYPE_CHECKING:
    import dns.name
    import dns.rrset

MAX_TXT_CANDIDATES = 8  # a real answer has one; a fake with hundreds gets no more work
_LABEL_DIGITS = NONCE_BYTES  # 2 * NONCE_BYTES hex digits, half in each of two labels


def nonce_labels(nonce: bytes) -> str:
    """The two labels that carry a 32-byte nonce in a DNS name."""
    digits = nonce.hex()
    return f"{digits[:_LABEL_DIGITS]}.{digits[_LABEL_DIGITS:]}"


def nonce_from_labels(labels: Sequence[bytes]) -> bytes | None:
    """The nonce that `nonce_labels` put in front of a name (labels as dnspython gives them)."""
    if len(labels) < 3 or not all(len(label) == _LABEL_DIGITS for label in labels[:2]):
        return None
    try:
        return decode_nonce((labels[0] + labels[1]).decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def parse_dns_target(target: str) -> tuple[str, tuple[str, int] | None]:
    """(name, (server address, port) or None); ValueError says what is wrong."""
    name, sep, server_text = target.partition("@")
    name = name.strip().rstrip(".")
    if not name:
        raise ValueError(f"no name to resolve in {target!r}")
    if not sep:
        return name, None
    host, port = server_text, 53
    if server_text.startswith("["):
        host, _, rest = server_text[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"bad server {server_text!r}: expected [address]:port")
            port = int(rest[1:])
    elif server_text.count(":") == 1:
        host, port_text = server_text.split(":")
        if not port_text.isdigit():
            raise ValueError(f"bad port in server {server_text!r}")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the server after @ must be an IP address, not {host!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"bad port {port} in server {server_text!r}")
    return name, (host, port)


def probe_dns(spec: ProbeSpec, deadline: float) -> Verdict:
    """Resolve `spec.target` before `deadline` (time.monotonic) and judge the answer."""
    try:
        name, server = parse_dns_target(spec.target)
    except ValueError as exc:
        return misconfigured(str(exc))
    if spec.responder_key is None and server is None:
        return _system_lookup(name)
    try:
        import dns.exception
        import dns.name
    except ImportError:
        return misconfigured("dnspython is not installed (signed and name@server probes need it)")
    nonce = new_nonce() if spec.responder_key is not None else b""
    try:
        qname = dns.name.from_text(f"{nonce_labels(nonce)}.{name}" if nonce else name)
    except dns.exception.DNSException as exc:
        return misconfigured(f"bad name {name!r}: {exc}")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return unreachable("no time left to try")
    if server is None:
        return _txt_via_system_resolver(qname, spec.responder_key, nonce, remaining)
    return _direct_query(qname, server, spec.responder_key, nonce, remaining)


def _system_lookup(name: str) -> Verdict:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        return unreachable(f"{name} not resolved by the system resolver: {exc.strerror or exc}")
    except UnicodeError as exc:
        return misconfigured(f"bad name {name!r}: {exc}")
    addresses = sorted({str(info[4][0]) for info in infos})
    return answered(f"system resolver gave {name} = {', '.join(addresses)}", None, b"", None)


def _txt_via_system_resolver(
    qname: dns.name.Name, responder_key: bytes | None, nonce: bytes, lifetime: float
) -> Verdict:
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.Resolver().resolve(
            qname, "TXT", lifetime=lifetime, raise_on_no_answer=False, search=False
        )
    except dns.resolver.NoResolverConfiguration as exc:
        return misconfigured(f"no system DNS configuration: {exc}")
    except dns.exception.Timeout:
        return unreachable(f"no DNS answer for TXT {qname} within {lifetime:.3g} s")
    except dns.resolver.NXDOMAIN:
        return unreachable(f"NXDOMAIN for TXT {qname} from the system's DNS servers")
    except dns.exception.DNSException as exc:
        return unreachable(f"TXT {qname} did not resolve: {exc}")
    via = f"DNS server {_address(answer.nameserver or '?', answer.port or 53)}"
    rrsets = [answer.rrset] if answer.rrset is not None else []
    return _judge_txt(via, rrsets, responder_key, nonce)


def _direct_query(
    qname: dns.name.Name,
    server: tuple[str, int],
    responder_key: bytes | None,
    nonce: bytes,
    timeout: float,
) -> Verdict:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    rdtype = dns.rdatatype.A if responder_key is None else dns.rdatatype.TXT
    query = dns.message.make_query(qname, rdtype)
    via = f"DNS server {_address(*server)}"
    try:
        response, _ = dns.query.udp_with_fallback(query, server[0], timeout=timeout, port=server[1])
    except dns.exception.Timeout:
        return unreachable(f"no answer from {via} within {timeout:.3g} s")
    except OSError as exc:
        return unreachable(f"could not ask {via}: {exc.strerror or exc}")
    except dns.exception.DNSException as exc:
        return unproven(f"{via} answered, but not with a valid DNS answer: {exc}")
    rcode = response.rcode()
    if rcode != dns.rcode.NOERROR:
        return unreachable(f"{via} answered {dns.rcode.to_text(rcode)} for {qname}")
    if responder_key is not None:
        txt = [rrset for rrset in response.answer if rrset.rdtype == dns.rdatatype.TXT]
        return _judge_txt(via, txt, responder_key, nonce)
    records = sorted(
        rdata.to_text()
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.A
        for rdata in rrset
    )
    found = ", ".join(records) if records else "no A records"
    return answered(f"{via} answered NOERROR for {qname}: {found}", None, b"", None)


def _judge_txt(
    via: str, rrsets: list[dns.rrset.RRset], responder_key: bytes | None, nonce: bytes
) -> Verdict:
    """REACHED if any TXT string is the responder's signature over our nonce."""
    candidates = [
        b"".join(rdata.strings).decode("ascii", "replace") for rrset in rrsets for rdata in rrset
    ][:MAX_TXT_CANDIDATES]
    what = f"{via} answered {len(candidates)} TXT record(s)"
    verdicts = [answered(what, responder_key, nonce, text) for text in candidates]
    for verdict in verdicts:
        if verdict.verified:
            return verdict
    return verdicts[0] if verdicts else answered(what, responder_key, nonce, None)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

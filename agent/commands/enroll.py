"""`custos-agent enroll --server URL --token TOKEN`: make this PC a known host of a server.

The token may also come from standard input (`--token -`) or a file (`--token-file FILE`),
which keeps it out of the process list.

The agent makes its Ed25519 key, proves it holds it (`auth.enrollment_proof`), sends it
with the host's identity and the unit's token, and pins the server key it gets back.
Nothing is written to the state directory unless the server said yes: a refused or failed
enrollment leaves the machine exactly as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import i18n
from agent.collectors import host as host_collector
from agent.collectors.base import CollectContext
from agent.config import load_config
from agent.errors import ConfigError
from agent.facts import HostFacts
from agent.i18n import Lang
from agent.plain_http import plain_http_url
from agent.platforms import current_platform
from agent.probes.keytext import decode_public_key, encode_public_key
from agent.protocol.auth import enrollment_proof
from agent.protocol.canonical import canonical_json
from agent.protocol.envelope import HOST_ID, format_time
from agent.state import Delivery, Enrollment, StateDir
from agent.transport import Answer, Transport, TransportError, TransportOptions, normalise_pin

ENROLL_PATH = "/api/v1/enroll"
EXIT_OK, EXIT_UNREACHABLE, EXIT_REFUSED = 0, 1, 2
STDIN_TOKEN = "-"  # noqa: S105 - `--token -` reads the token from standard input


def enrollment_host(facts: HostFacts) -> dict[str, Any]:
    """The identity fields the server records (docs/protocol.md)."""
    asset = facts.asset
    return {
        "hostname": facts.hostname,
        "fqdn": facts.fqdn,
        "machine_id": facts.machine_id,
        "platform": facts.platform,
        "os_name": facts.os_name,
        "os_version": facts.os_version,
        "mac_addresses": list(facts.mac_addresses),
        "ip_addresses": list(facts.ip_addresses),
        "disk_serials": list(facts.disk_serials),
        "asset": {
            "machine_number": asset.machine_number,
            "responsible_person": asset.responsible_person,
            "department": asset.department,
            "classification": asset.classification,
            "purpose": asset.purpose,
        },
    }


def _server_url(text: str, lang: Lang) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--server: expected an http(s):// URL, got {text!r}")
    if parts.query or parts.fragment:
        raise ConfigError("--server: the URL must not have a query or fragment")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        _say("enroll.plain_http_warning", lang)
    return text.rstrip("/")


def _say(key: str, lang: Lang, **values: object) -> None:
    """One of enroll's messages (agent/i18n.py) on stderr, in the command's language."""
    print(f"custos-agent: {i18n.text(key, **values).get(lang)}", file=sys.stderr)


def _not_custos(answer: Answer) -> bool:
    """Whether the answer is from something other than a Custos server: a wrong path or
    port (404, 405), or a web page where the enrollment's JSON should be."""
    if answer.refusal() is not None:
        return False
    if answer.status in (404, 405):
        return True
    return answer.status in (200, 201) and answer.json_object() is None


def _options(args: argparse.Namespace) -> TransportOptions:
    ca_bundle: Path | None = args.ca_bundle.resolve() if args.ca_bundle else None
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConfigError(f"--ca-bundle: {ca_bundle}: no such file")
    pin = None
    if args.pin_sha256:
        try:
            pin = normalise_pin(args.pin_sha256)
        except ValueError as exc:
            raise ConfigError(f"--pin-sha256: {exc}") from None
    return TransportOptions(ca_bundle=ca_bundle, pin_sha256=pin, proxy=args.proxy or None)


def _token(args: argparse.Namespace) -> str:
    """The token from `--token`, standard input (`--token -`) or `--token-file`: the latter
    two keep it out of the process list, where any user of the PC could read it."""
    text: str
    if args.token_file is not None:
        try:
            text = args.token_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--token-file: cannot read {args.token_file}: {exc}") from exc
    elif args.token == STDIN_TOKEN:
        if sys.stdin.isatty():
            import getpass

            text = getpass.getpass("enrollment token: ")
        else:
            text = sys.stdin.readline()
    else:
        return str(args.token)
    token = text.strip()
    if not token:
        raise ConfigError("the enrollment token is empty")
    return token


def run_enroll(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    lang = i18n.choose_lang(args.lang, config.lang)
    state = StateDir(config.state_dir)
    current = state.load_enrollment() if state.is_enrolled() else None
    if current is not None and not args.force:
        _say("enroll.already", lang, host_id=current.host_id, server=current.server)
        return EXIT_REFUSED
    server = _server_url(args.server, lang)
    options = _options(args)
    plain = plain_http_url(server, options.proxy)
    if plain is not None:  # before the token is sent, and without a 10 s handshake timeout
        address = urlsplit(server).netloc
        _say("enroll.plain_http_server", lang, address=address, http_url=plain)
        return EXIT_UNREACHABLE
    token = _token(args)
    now = dt.datetime.now(dt.timezone.utc)
    facts = host_collector.collect(CollectContext(current_platform(), config.asset, now))
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    request = {
        "v": 1,
        "token": token,
        "public_key": encode_public_key(public),
        "host": enrollment_host(facts),
        "proof": enrollment_proof(key, token, public),
    }
    transport = Transport(server, options)
    try:
        answer = transport.request(
            "POST",
            ENROLL_PATH,
            content=canonical_json(request),
            headers={"Content-Type": "application/json"},
        )
    except TransportError as exc:
        _say("enroll.not_reached", lang, reason=exc)
        return EXIT_UNREACHABLE
    finally:
        transport.close()
    if _not_custos(answer):
        _say("enroll.not_custos", lang, url=transport.url(ENROLL_PATH), status=answer.status)
        return EXIT_REFUSED
    if answer.status not in (200, 201):
        refusal = answer.refusal()
        reason = f"{refusal[0]}: {refusal[1]}" if refusal else f"HTTP {answer.status}"
        _say("enroll.refused", lang, reason=reason)
        return EXIT_REFUSED
    document = answer.json_object() or {}
    host_id, server_key = document.get("host_id"), document.get("server_public_key")
    try:
        if not isinstance(host_id, str) or not HOST_ID.match(host_id):
            raise ValueError(f"host_id {host_id!r}")
        if not isinstance(server_key, str):
            raise ValueError("no server_public_key")
        decode_public_key(server_key)
    except ValueError as exc:
        _say("enroll.unusable", lang, reason=exc)
        return EXIT_REFUSED
    interval = document.get("report_interval_seconds")
    enrollment = Enrollment(
        server=server,
        host_id=host_id,
        server_public_key=server_key,
        enrolled_at=format_time(now),
        unit=str(document.get("unit") or ""),
        report_interval_seconds=interval if isinstance(interval, int) else None,
        ca_bundle=str(options.ca_bundle) if options.ca_bundle else None,
        pin_sha256=options.pin_sha256,
        proxy=options.proxy,
    )
    state.prepare()
    with state.locked():
        previous = state.load_delivery()
        state.save_private_key(key)
        state.save_enrollment(enrollment)
        # A new host: its first report is full. The seq counter goes on (never reused).
        state.save_delivery(Delivery(last_ack_seq=previous.last_ack_seq))
    print(host_id)  # alone on stdout, for scripts; the rest is for the person enrolling
    _say("enroll.done", lang, host_id=host_id, server=server, unit=enrollment.unit or "-")
    return EXIT_OK

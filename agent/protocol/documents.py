"""Documents the server signs with its Ed25519 key and the agent verifies with the key it
pinned at enrollment: the policy assigned to the host, and its pending commands.

    GET /api/v1/policy   -> {"id","version","sha256","yaml","signature"}
                            signature over POLICY_DOMAIN + yaml bytes (UTF-8)
    GET /api/v1/commands -> {"document": "<JSON text>", "signature"}
                            signature over COMMANDS_DOMAIN + document bytes; the document is
                            {"host_id","issued_at","commands":[{"id","kind","created_at",
                            "expires_at"}]}

The commands document names the host and the moment it was issued, so that a document for
one host cannot be replayed to another, nor an old one replayed later.

Snapshots (`server.snapshots`) are signed with the same key under SNAPSHOT_DOMAIN: the tag
is listed here with the others so that no two kinds of server-signed document can ever share
one, and a snapshot signature can never verify as a policy or a command list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.protocol.canonical import canonical_json, sha256_hex
from agent.protocol.envelope import format_time, load_json_object, parse_time
from agent.protocol.errors import ProtocolError

POLICY_DOMAIN = b"custos-policy-v1\x00"
COMMANDS_DOMAIN = b"custos-commands-v1\x00"
SNAPSHOT_DOMAIN = b"custos-snapshot-v1\x00"
COMMAND_KINDS = ("recheck",)
MAX_DOCUMENT_AGE = dt.timedelta(minutes=15)


def sign(private_key: Ed25519PrivateKey, domain: bytes, data: bytes) -> str:
    return base64.b64encode(private_key.sign(domain + data)).decode("ascii")


def verify(public_key: bytes, domain: bytes, data: bytes, signature: str) -> None:
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, domain + data)
    except (InvalidSignature, ValueError, UnicodeEncodeError, binascii.Error):
        raise ProtocolError(
            "bad_server_signature", "not signed by the server key pinned at enrollment"
        ) from None


# --- policy --------------------------------------------------------------------------------


def policy_response(
    private_key: Ed25519PrivateKey, policy_id: str, version: str, yaml_text: str
) -> dict[str, Any]:
    data = yaml_text.encode("utf-8")
    return {
        "id": policy_id,
        "version": version,
        "sha256": sha256_hex(data),
        "yaml": yaml_text,
        "signature": sign(private_key, POLICY_DOMAIN, data),
    }


def verified_policy_yaml(response: dict[str, Any], server_key: bytes) -> bytes:
    """The policy bytes, once the pinned server key has signed exactly them."""
    yaml_text, signature = response.get("yaml"), response.get("signature")
    if not isinstance(yaml_text, str) or not isinstance(signature, str):
        raise ProtocolError("bad_server_signature", "the policy answer carries no signed policy")
    data = yaml_text.encode("utf-8")
    verify(server_key, POLICY_DOMAIN, data, signature)
    if response.get("sha256") != sha256_hex(data):
        raise ProtocolError("bad_server_signature", "the policy hash does not match its text")
    return data


# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    id: str
    kind: str
    created_at: dt.datetime
    expires_at: dt.datetime


def commands_response(
    private_key: Ed25519PrivateKey, host_id: str, commands: list[Command], now: dt.datetime
) -> dict[str, str]:
    document = canonical_json(
        {
            "host_id": host_id,
            "issued_at": format_time(now),
            "commands": [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "created_at": format_time(c.created_at),
                    "expires_at": format_time(c.expires_at),
                }
                for c in commands
            ],
        }
    ).decode("utf-8")
    return {
        "document": document,
        "signature": sign(private_key, COMMANDS_DOMAIN, document.encode()),
    }


def verified_commands(
    response: dict[str, Any], server_key: bytes, host_id: str, now: dt.datetime
) -> list[Command]:
    """Commands for this host, signed by the pinned key, issued recently, not yet expired."""
    document, signature = response.get("document"), response.get("signature")
    if not isinstance(document, str) or not isinstance(signature, str):
        raise ProtocolError(
            "bad_server_signature", "the commands answer carries no signed document"
        )
    verify(server_key, COMMANDS_DOMAIN, document.encode("utf-8"), signature)
    data = load_json_object(document.encode("utf-8"), "the commands document")
    if data.get("host_id") != host_id:
        raise ProtocolError("bad_server_signature", "the commands document is for another host")
    issued = parse_time(str(data.get("issued_at", "")))
    if abs(now - issued) > MAX_DOCUMENT_AGE:
        raise ProtocolError("clock_skew", f"commands document issued at {issued.isoformat()}")
    commands = []
    for item in data.get("commands") or []:
        if not isinstance(item, dict) or item.get("kind") not in COMMAND_KINDS:
            continue  # a kind this agent does not know is ignored, never guessed at
        command = Command(
            id=str(item["id"]),
            kind=str(item["kind"]),
            created_at=parse_time(str(item["created_at"])),
            expires_at=parse_time(str(item["expires_at"])),
        )
        if command.expires_at > now:
            commands.append(command)
    return commands

"""Documents the server signs with its Ed25519 key and the agent verifies with the key it
pinned at enrollment: the policy assigned to the host, its pending commands, and the receipt
for each report it accepted. Each names the host and the moment it was issued, so that a
document for one host cannot be replayed to another, nor an old one replayed later.

    GET /api/v1/policy   -> {"id","version","sha256","yaml","document","signature"}
                            signature over POLICY_DOMAIN + document bytes; the document is
                            {"host_id","issued_at","id","version","sha256"}, sha256 being
                            that of the yaml text (UTF-8)
    GET /api/v1/commands -> {"document": "<JSON text>", "signature"}
                            signature over COMMANDS_DOMAIN + document bytes; the document is
                            {"host_id","issued_at","commands":[{"id","kind","created_at",
                            "expires_at"}]}
    POST /api/v1/reports -> 200 and 409 `replay` carry "receipt": {"document","signature"}
                            signature over RECEIPT_DOMAIN + document bytes; the document is
                            {"host_id","seq","report_sha256","outcome","issued_at",
                            "need_full","policy"}; report_sha256 is `Envelope.digest`, the
                            hash of exactly what the report's signature covers

The agent deletes a spooled report only on a receipt for exactly that report (host, seq and
digest), so a man in the middle cannot make it drop one with a made-up acknowledgement. It
takes a policy only when it is for this host, issued within MAX_DOCUMENT_AGE of its clock,
and not issued before the policy it holds (no rollback).

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

POLICY_DOMAIN = b"custos-policy-v2\x00"  # v2: bound to a host and an issue time
COMMANDS_DOMAIN = b"custos-commands-v1\x00"
RECEIPT_DOMAIN = b"custos-receipt-v1\x00"
SNAPSHOT_DOMAIN = b"custos-snapshot-v1\x00"
RECEIPT_OUTCOMES = ("accepted", "replay")
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
    private_key: Ed25519PrivateKey,
    host_id: str,
    policy_id: str,
    version: str,
    yaml_text: str,
    now: dt.datetime,
) -> dict[str, Any]:
    digest = sha256_hex(yaml_text.encode("utf-8"))
    document = canonical_json(
        {
            "host_id": host_id,
            "issued_at": format_time(now),
            "id": policy_id,
            "version": version,
            "sha256": digest,
        }
    ).decode("utf-8")
    return {
        "id": policy_id,
        "version": version,
        "sha256": digest,
        "yaml": yaml_text,
        "document": document,
        "signature": sign(private_key, POLICY_DOMAIN, document.encode("utf-8")),
    }


@dataclass(frozen=True)
class SignedPolicy:
    yaml: bytes  # exactly the bytes the server's document names by their sha256
    issued_at: dt.datetime


def verified_policy(
    response: dict[str, Any],
    server_key: bytes,
    host_id: str,
    now: dt.datetime,
    held_since: dt.datetime | None,
) -> SignedPolicy:
    """The policy bytes, once the pinned server key has signed them for this host, recently,
    and no earlier than `held_since` (the issue time of the policy the agent holds)."""
    yaml_text, document = response.get("yaml"), response.get("document")
    signature = response.get("signature")
    if not (
        isinstance(yaml_text, str) and isinstance(document, str) and isinstance(signature, str)
    ):
        raise ProtocolError("bad_server_signature", "the policy answer carries no signed policy")
    data = _signed_document(server_key, POLICY_DOMAIN, document, signature, "policy")
    if data.get("host_id") != host_id:
        raise ProtocolError("bad_server_signature", "the policy document is for another host")
    issued = _issued_at(data, now, "policy")
    if held_since is not None and issued < held_since:
        raise ProtocolError(
            "bad_server_signature",
            f"the policy was issued at {format_time(issued)}, before the one this agent "
            f"holds ({format_time(held_since)}): a rollback",
        )
    yaml_bytes = yaml_text.encode("utf-8")
    if data.get("sha256") != sha256_hex(yaml_bytes):
        raise ProtocolError("bad_server_signature", "the policy hash does not match its text")
    return SignedPolicy(yaml_bytes, issued)


def _signed_document(
    server_key: bytes, domain: bytes, document: str, signature: str, what: str
) -> dict[str, Any]:
    verify(server_key, domain, document.encode("utf-8"), signature)
    try:
        return load_json_object(document.encode("utf-8"), f"the {what} document")
    except ProtocolError as exc:
        raise ProtocolError("bad_server_signature", exc.detail) from None


def _issued_at(data: dict[str, Any], now: dt.datetime, what: str) -> dt.datetime:
    try:
        issued = parse_time(str(data.get("issued_at", "")))
    except ProtocolError:
        raise ProtocolError(
            "bad_server_signature", f"the {what} document has no issue time"
        ) from None
    if abs(now - issued) > MAX_DOCUMENT_AGE:
        raise ProtocolError("clock_skew", f"{what} document issued at {format_time(issued)}")
    return issued


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
    data = _signed_document(server_key, COMMANDS_DOMAIN, document, signature, "commands")
    if data.get("host_id") != host_id:
        raise ProtocolError("bad_server_signature", "the commands document is for another host")
    _issued_at(data, now, "commands")
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


# --- receipts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What the server signed about one report: it has it (`accepted` now, or `replay`:
    accepted before), whether it wants a full report next, and the policy it assigns."""

    outcome: str
    need_full: bool
    policy: dict[str, str] | None


def receipt(
    private_key: Ed25519PrivateKey,
    host_id: str,
    seq: int,
    report_sha256: str,
    outcome: str,
    now: dt.datetime,
    need_full: bool = False,
    policy: dict[str, str] | None = None,
) -> dict[str, str]:
    if outcome not in RECEIPT_OUTCOMES:
        raise ValueError(f"unknown receipt outcome {outcome!r}")
    document = canonical_json(
        {
            "host_id": host_id,
            "seq": seq,
            "report_sha256": report_sha256,
            "outcome": outcome,
            "issued_at": format_time(now),
            "need_full": need_full,
            "policy": policy,
        }
    ).decode("utf-8")
    return {
        "document": document,
        "signature": sign(private_key, RECEIPT_DOMAIN, document.encode("utf-8")),
    }


def verified_receipt(
    answer: dict[str, Any], server_key: bytes, host_id: str, seq: int, report_sha256: str
) -> Receipt:
    """The receipt in a server answer, when the pinned key signed it for exactly this report.

    Its issue time is not held against it: a receipt names one report by its digest, and
    whenever it was issued, that report reached the server."""
    signed = answer.get("receipt")
    if not isinstance(signed, dict):
        raise ProtocolError("bad_server_signature", "the answer carries no signed receipt")
    document, signature = signed.get("document"), signed.get("signature")
    if not isinstance(document, str) or not isinstance(signature, str):
        raise ProtocolError("bad_server_signature", "the receipt is not a signed document")
    data = _signed_document(server_key, RECEIPT_DOMAIN, document, signature, "receipt")
    if (data.get("host_id"), data.get("seq"), data.get("report_sha256")) != (
        host_id,
        seq,
        report_sha256,
    ):
        raise ProtocolError("bad_server_signature", f"the receipt is not for report seq {seq}")
    outcome, policy = data.get("outcome"), data.get("policy")
    if outcome not in RECEIPT_OUTCOMES:
        raise ProtocolError("bad_server_signature", f"the receipt's outcome is {outcome!r}")
    if policy is not None and not (
        isinstance(policy, dict) and all(isinstance(v, str) for v in policy.values())
    ):
        raise ProtocolError("bad_server_signature", "the receipt's policy is malformed")
    return Receipt(str(outcome), data.get("need_full") is True, policy)

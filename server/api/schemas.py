"""JSON Schemas of the API's bodies: the enrollment request is validated with its schema, and
the OpenAPI document publishes all of them (the envelope and payload schemas describe what
`agent.protocol` checks in code)."""

from __future__ import annotations

from typing import Any

from agent.protocol.envelope import MAX_ENVELOPE_BYTES
from server.fleet.identity import ASSET_FIELDS

_TEXT = {"type": "string", "maxLength": 1024}
_TEXT_LIST = {"type": "array", "maxItems": 256, "items": {"type": "string", "maxLength": 256}}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_BASE64 = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
SIGNATURE = {
    "type": "string",
    "pattern": "^[A-Za-z0-9+/]{85}[AQgw]==$",
    "description": "base64 of a 64-byte Ed25519 signature",
}
# What agents send (format_time); the server accepts any ISO 8601 time with a zone.
_UTC_TIME = (
    "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)
PUBLIC_KEY = {"type": "string", "pattern": "^ed25519:[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$"}

ENROLL_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["token", "public_key", "host", "proof"],
    "properties": {
        "v": {"const": 1},
        "token": {"type": "string", "minLength": 1, "maxLength": 200},
        "public_key": PUBLIC_KEY,
        "proof": {
            **SIGNATURE,
            "description": "base64 Ed25519 signature: agent.protocol.auth.enrollment_proof",
        },
        "host": {
            "type": "object",
            "description": "The agent's host facts; fields not listed here are ignored.",
            "required": ["hostname", "machine_id"],
            "properties": {
                "hostname": _TEXT,
                "fqdn": _TEXT,
                "machine_id": _TEXT,
                "platform": _TEXT,
                "os_name": _TEXT,
                "os_version": _TEXT,
                "mac_addresses": _TEXT_LIST,
                "ip_addresses": _TEXT_LIST,
                "disk_serials": _TEXT_LIST,
                "asset": {
                    "type": "object",
                    "properties": dict.fromkeys(ASSET_FIELDS, _TEXT),
                },
            },
        },
    },
    "additionalProperties": False,
}

ENROLL_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["host_id", "server_public_key", "unit", "report_interval_seconds"],
    "properties": {
        "host_id": {"type": "string", "pattern": "^h_[0-9a-f]{32}$"},
        "server_public_key": PUBLIC_KEY,
        "unit": {"type": "string"},
        "report_interval_seconds": {"type": "integer", "minimum": 60},
    },
    "additionalProperties": False,
}

ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": (
        "One signed report, stored byte for byte (agent/protocol/envelope.py). The signature is "
        "Ed25519 over the domain tag and the length-framed fields; payload is base64 of the "
        f"(gzip) payload bytes, decoding to the Payload schema. At most {MAX_ENVELOPE_BYTES} bytes."
    ),
    "required": ["v", "host_id", "seq", "sent_at", "payload_encoding", "payload", "signature"],
    "properties": {
        "v": {"const": 1},
        "host_id": {"type": "string", "pattern": "^h_[0-9a-f]{32}$"},
        "seq": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        "sent_at": {"type": "string", "pattern": _UTC_TIME, "examples": ["2026-11-27T08:00:00Z"]},
        "payload_encoding": {"enum": ["identity", "gzip"]},
        "payload": {"type": "string", "pattern": _BASE64, "contentEncoding": "base64"},
        "signature": SIGNATURE,
    },
    "additionalProperties": False,
}

POLICY_SUMMARY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "version", "sha256"],
    "properties": {"id": {"type": "string"}, "version": {"type": "string"}, "sha256": _SHA256},
    "additionalProperties": False,
}

COMMANDS_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": (
        "document: canonical JSON {host_id, issued_at, commands: [{id, kind, created_at, "
        "expires_at}]}; signature: Ed25519 by the server key over the commands domain tag "
        "and the document bytes (agent/protocol/documents.py)."
    ),
    "required": ["document", "signature"],
    "properties": {"document": {"type": "string"}, "signature": {"type": "string"}},
    "additionalProperties": False,
}

RECEIPT: dict[str, Any] = {
    "type": "object",
    "description": (
        "document: canonical JSON {host_id, seq, report_sha256, outcome (accepted|replay), "
        "issued_at, need_full, policy}; report_sha256 is the SHA-256 of the report's signing "
        "input (what its signature covers); signature: Ed25519 by the server key over the "
        "receipt domain tag and the document bytes (agent/protocol/documents.py). The agent "
        "deletes a spooled report only on a receipt for exactly that report."
    ),
    "required": ["document", "signature"],
    "properties": {"document": {"type": "string"}, "signature": {"type": "string"}},
    "additionalProperties": False,
}

ACK: dict[str, Any] = {
    "type": "object",
    "description": (
        "stored, need_full and policy are repeated in the signed receipt, which is what the "
        "agent acts on."
    ),
    "required": ["accepted", "stored", "need_full", "policy", "commands", "receipt"],
    "properties": {
        "accepted": {"type": "integer", "minimum": 1},
        "stored": {"enum": ["full", "heartbeat"]},
        "need_full": {"type": "boolean"},
        "policy": {"oneOf": [{"$ref": "#/components/schemas/PolicySummary"}, {"type": "null"}]},
        "commands": {"$ref": "#/components/schemas/CommandsDocument"},
        "receipt": {"$ref": "#/components/schemas/Receipt"},
    },
    "additionalProperties": False,
}

POLICY_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "description": (
        "document: canonical JSON {host_id, issued_at, id, version, sha256}, sha256 being "
        "that of the yaml text; signature: Ed25519 by the server key over the policy domain "
        "tag and the document bytes. The agent takes the policy only for its own host_id, "
        "issued within 15 minutes of its clock and not before the policy it holds."
    ),
    "required": ["id", "version", "sha256", "yaml", "document", "signature"],
    "properties": {
        "id": {"type": "string"},
        "version": {"type": "string"},
        "sha256": _SHA256,
        "yaml": {"type": "string"},
        "document": {"type": "string"},
        "signature": {"type": "string"},
    },
    "additionalProperties": False,
}

HEALTH: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"enum": ["ok", "unavailable"]}},
    "additionalProperties": False,
}

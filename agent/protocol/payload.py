"""What a report carries.

A *full* report carries the machine's whole state: host identity and asset fields, every
finding with its evidence, and the inventory that the dashboard and snapshots show
(software, services, removable media, network). A *heartbeat* carries only the hash of that
state, the policy and the summary: when nothing changed the server learns "still the same,
still running" for a few hundred bytes. `state_hash` is computed over a stable projection
(no boot time, no process ids, no probe timings), so an unchanged machine hashes the same.

    {"v":1,"kind":"full"|"heartbeat","created_at":…,"trigger":…,"state_hash":…,
     "policy":{"id","version","sha256"},"summary":{…},"answered_commands":[…],
     # full only:
     "host":{…},"findings":[…],"inventory":{"software":[…],"services":[…],"media":{…},
     "network":{…},"neighbours":{…}},"errors":{collector: reason}}

`inventory.neighbours` (LAN neighbours from the ARP and IPv6 neighbour tables, only inside the
policy's allowed networks, at most 256) counts in the state hash as the set of (address, MAC)
pairs: a neighbour going from "reachable" to "stale" and back, as table entries do by the
minute, is no change; a device appearing or leaving is.
"""

from __future__ import annotations

from typing import Any

from agent.protocol.canonical import canonical_json, sha256_hex
from agent.protocol.errors import ProtocolError

PAYLOAD_VERSION = 1
# "software": an Uninstall key changed (Windows registry notification); "uninstall": the last
# report of an agent being removed (the Windows installer sends it before removing files).
TRIGGERS = (
    "startup",
    "schedule",
    "media",
    "network",
    "command",
    "manual",
    "policy",
    "software",
    "uninstall",
)
_LOCAL_TEXT = {
    "type": "object",
    "required": ["zh", "en"],
    "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
    "additionalProperties": False,
}
MAX_NEIGHBOURS = 256
_NEIGHBOURS = {
    "type": ["object", "null"],
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "maxItems": MAX_NEIGHBOURS,
            "items": {
                "type": "object",
                "required": ["family", "address", "mac"],
                "properties": {
                    "family": {"enum": ["ipv4", "ipv6"]},
                    "address": {"type": "string", "maxLength": 64},
                    "mac": {"type": "string", "maxLength": 32},
                    "interface": {"type": "string", "maxLength": 64},
                    "state": {"type": "string", "maxLength": 32},
                },
            },
        },
        "networks": {
            "type": ["array", "null"],
            "maxItems": 1000,
            "items": {"type": "string", "maxLength": 64},
        },
        "left_out": {"type": "integer", "minimum": 0},
    },
}
_FINDING = {
    "type": "object",
    "required": ["rule", "category", "severity", "status", "title", "message", "evidence"],
    "properties": {
        "rule": {"type": "string", "minLength": 1, "maxLength": 64},
        "category": {"enum": ["software", "media", "internet", "asset"]},
        "severity": {"enum": ["info", "low", "medium", "high", "critical"]},
        "status": {"enum": ["pass", "fail", "error", "not_applicable"]},
        "title": _LOCAL_TEXT,
        "message": _LOCAL_TEXT,
        "remedy": {"anyOf": [_LOCAL_TEXT, {"type": "null"}]},
        "evidence": {"type": "object"},
    },
    "additionalProperties": False,
}
PAYLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Custos report payload v1",
    "type": "object",
    "required": [
        "v",
        "kind",
        "created_at",
        "trigger",
        "state_hash",
        "policy",
        "summary",
        "answered_commands",
    ],
    "properties": {
        "v": {"const": PAYLOAD_VERSION},
        "kind": {"enum": ["full", "heartbeat"]},
        "created_at": {"type": "string", "maxLength": 40},
        "trigger": {"enum": list(TRIGGERS)},
        "state_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "policy": {
            "type": "object",
            "required": ["id", "version", "sha256"],
            "properties": {
                "id": {"type": "string", "maxLength": 64},
                "version": {"type": "string", "maxLength": 64},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            },
            "additionalProperties": False,
        },
        "summary": {
            "type": "object",
            "required": ["compliant", "passed", "failed", "errors", "not_applicable"],
            "properties": {
                "compliant": {"type": "boolean"},
                **{
                    k: {"type": "integer", "minimum": 0}
                    for k in ("passed", "failed", "errors", "not_applicable")
                },
            },
            "additionalProperties": False,
        },
        "answered_commands": {
            "type": "array",
            "maxItems": 100,
            "items": {"type": "string", "maxLength": 64},
        },
        "host": {"type": "object"},
        "findings": {"type": "array", "maxItems": 1000, "items": _FINDING},
        "inventory": {
            "type": "object",
            "properties": {
                "software": {"type": ["array", "null"]},
                "services": {"type": ["array", "null"]},
                "media": {"type": ["object", "null"]},
                "network": {"type": ["object", "null"]},
                "neighbours": _NEIGHBOURS,
            },
        },
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
    "if": {"properties": {"kind": {"const": "full"}}},
    "then": {"required": ["host", "findings", "inventory"]},
    "else": {
        "not": {
            "anyOf": [
                {"required": ["host"]},
                {"required": ["findings"]},
                {"required": ["inventory"]},
            ]
        }
    },
}

_VOLATILE_HOST_KEYS = frozenset({"boot_time", "users", "agent_version"})


def stable_state(
    host: dict[str, Any], findings: list[dict[str, Any]], inventory: dict[str, Any]
) -> dict[str, Any]:
    """The part of a full report that only changes when the machine's state changes."""
    network = dict(inventory.get("network") or {})
    network.pop("connections", None)  # ephemeral ports, moment to moment
    media = dict(inventory.get("media") or {})
    media.pop("history_since", None)  # "now minus the lookback": moves with every check
    stable = {
        "host": {k: v for k, v in host.items() if k not in _VOLATILE_HOST_KEYS},
        "findings": sorted((f["rule"], f["status"]) for f in findings),
        "software": inventory.get("software"),
        "services": [(s.get("name"), s.get("state")) for s in (inventory.get("services") or [])],
        "media": media,
        "network": network,
    }
    neighbours = inventory.get("neighbours")
    if neighbours is not None:  # absent before agents reported neighbours: same hash as then
        entries = neighbours.get("entries") or []
        stable["neighbours"] = sorted({(str(e.get("address")), str(e.get("mac"))) for e in entries})
    return stable


def state_hash(
    host: dict[str, Any], findings: list[dict[str, Any]], inventory: dict[str, Any]
) -> str:
    return sha256_hex(canonical_json(stable_state(host, findings, inventory)))


def encode_payload(payload: dict[str, Any]) -> bytes:
    return canonical_json(payload)


_validator: Any = None


def validate_payload(payload: dict[str, Any]) -> None:
    """Refuse a payload that is not the documented shape (server side, after the signature)."""
    global _validator
    if _validator is None:
        from jsonschema import Draft202012Validator

        _validator = Draft202012Validator(PAYLOAD_SCHEMA)
    error = next(iter(_validator.iter_errors(payload)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "<payload>"
        raise ProtocolError("bad_payload", f"{where}: {error.message[:300]}")

"""The signed report envelope.

On the wire (the HTTP body, and byte for byte what the agent spools and the server stores)::

    {"host_id":"h_…","payload":"<base64>","payload_encoding":"gzip","seq":17,
     "sent_at":"2026-11-27T08:00:00Z","signature":"<base64>","v":1}

The signature is Ed25519 over `signing_input(...)`: a domain tag, then every field as an
8-byte big-endian length followed by its bytes. Length prefixes make the concatenation
unambiguous; the domain tag keeps a report signature from ever verifying as a probe answer,
a policy or an enrollment proof. `payload` is the exact payload bytes (after encoding), so
the signature covers exactly what was sent.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import io
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.protocol.canonical import canonical_json, framed, sha256_hex
from agent.protocol.errors import ProtocolError

VERSION = 1
REPORT_DOMAIN = b"custos-report-v1\x00"
MAX_ENVELOPE_BYTES = 512 * 1024  # the server refuses larger bodies before parsing them
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024  # decompressed: bounds a gzip bomb
ENCODINGS = ("identity", "gzip")
HOST_ID = re.compile(r"^h_[0-9a-f]{32}$")
_FIELDS = {"v", "host_id", "seq", "sent_at", "payload_encoding", "payload", "signature"}
_MAX_SEQ = 2**63 - 1


@dataclass(frozen=True)
class Envelope:
    host_id: str
    seq: int
    sent_at: str  # as sent (ISO 8601, UTC "Z"); parsed by `sent_at_time`
    payload_encoding: str
    payload: bytes  # the encoded payload bytes, exactly as signed
    signature: bytes

    @property
    def sent_at_time(self) -> dt.datetime:
        return parse_time(self.sent_at)

    def signing_input(self) -> bytes:
        return signing_input(
            self.host_id, self.seq, self.sent_at, self.payload_encoding, self.payload
        )

    def digest(self) -> str:
        """SHA-256 of what the signature covers: the report's identity, whatever the JSON
        around it looks like. Two bodies with one digest are one report (a re-serialised copy
        is a replay); acknowledgements name the report by it."""
        return sha256_hex(self.signing_input())

    def decoded_payload(self, limit: int = MAX_PAYLOAD_BYTES) -> bytes:
        """The payload's JSON bytes; gzip is inflated at most up to `limit` bytes."""
        if self.payload_encoding == "identity":
            if len(self.payload) > limit:
                raise ProtocolError("payload_too_large", f"payload over {limit} bytes")
            return self.payload
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(self.payload)) as stream:
                data = stream.read(limit + 1)
        except (OSError, EOFError) as exc:
            raise ProtocolError("bad_payload", f"payload is not valid gzip: {exc}") from exc
        if len(data) > limit:
            raise ProtocolError("payload_too_large", f"payload inflates past {limit} bytes")
        return data


def signing_input(host_id: str, seq: int, sent_at: str, encoding: str, payload: bytes) -> bytes:
    return REPORT_DOMAIN + framed(
        str(VERSION).encode(),
        host_id.encode("utf-8"),
        str(seq).encode(),
        sent_at.encode("utf-8"),
        encoding.encode("utf-8"),
        payload,
    )


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ProtocolError(
            "schema_violation", f"sent_at is not an ISO 8601 time: {text!r}"
        ) from exc
    if moment.tzinfo is None:
        raise ProtocolError("schema_violation", "sent_at has no time zone")
    return moment


def encode_envelope(
    private_key: Ed25519PrivateKey,
    host_id: str,
    seq: int,
    sent_at: dt.datetime,
    payload_json: bytes,
    compress: bool = True,
) -> bytes:
    """The request body for one report, signed; what the agent spools and sends unchanged."""
    encoding = "gzip" if compress else "identity"
    # mtime=0: the same payload always encodes to the same bytes.
    payload = gzip.compress(payload_json, compresslevel=6, mtime=0) if compress else payload_json
    sent = format_time(sent_at)
    signature = private_key.sign(signing_input(host_id, seq, sent, encoding, payload))
    return canonical_json(
        {
            "v": VERSION,
            "host_id": host_id,
            "seq": seq,
            "sent_at": sent,
            "payload_encoding": encoding,
            "payload": base64.b64encode(payload).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # built in C: this hook runs for every object of every payload
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ProtocolError("schema_violation", f"duplicate key {key!r}")
            seen.add(key)
    return result


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError("malformed_json", f"number {text[:40]} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise ProtocolError("malformed_json", f"{name} is not a JSON number")


def load_json_object(body: bytes, what: str, *, finite: bool = False) -> dict[str, Any]:
    """Strict JSON: UTF-8, one object, no duplicate keys (which parsers resolve differently);
    with `finite`, no NaN, Infinity or number too large for a float either (Python's parser
    takes them; databases and other parsers do not)."""
    hooks: dict[str, Any] = {"parse_float": _finite, "parse_constant": _no_constant}
    try:
        text = body.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, **(hooks if finite else {}))
    except ProtocolError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError("malformed_json", f"{what} is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ProtocolError("schema_violation", f"{what} must be a JSON object")
    return value


def _b64(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise ProtocolError("schema_violation", f"{name} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ProtocolError("schema_violation", f"{name} is not valid base64") from None


def decode_envelope(body: bytes, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Parse and check the shape of an envelope; the signature is checked by `verify`."""
    if len(body) > max_bytes:
        raise ProtocolError("too_large", f"body of {len(body)} bytes, limit {max_bytes}")
    data = load_json_object(body, "the envelope")
    if "v" in data and data["v"] != VERSION:
        raise ProtocolError(
            "unsupported_version", f"envelope version {data['v']!r}, expected {VERSION}"
        )
    missing = sorted(_FIELDS - set(data))
    extra = sorted(set(data) - _FIELDS)
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unexpected {', '.join(extra)}"] if extra else []
        )
        raise ProtocolError("schema_violation", "; ".join(parts))
    host_id, seq, sent_at, encoding = (
        data["host_id"],
        data["seq"],
        data["sent_at"],
        data["payload_encoding"],
    )
    if not isinstance(host_id, str) or not HOST_ID.match(host_id):
        raise ProtocolError("schema_violation", "host_id must look like h_<32 hex digits>")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= _MAX_SEQ:
        raise ProtocolError("schema_violation", "seq must be an integer from 1 to 2^63-1")
    if not isinstance(sent_at, str) or len(sent_at) > 40:
        raise ProtocolError("schema_violation", "sent_at must be an ISO 8601 time string")
    parse_time(sent_at)
    if encoding not in ENCODINGS:
        raise ProtocolError(
            "schema_violation", f"payload_encoding must be one of {', '.join(ENCODINGS)}"
        )
    signature = _b64(data["signature"], "signature")
    if len(signature) != 64:
        raise ProtocolError("schema_violation", "signature must be 64 bytes")
    return Envelope(host_id, seq, sent_at, encoding, _b64(data["payload"], "payload"), signature)


def verify_envelope(envelope: Envelope, public_key: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            envelope.signature, envelope.signing_input()
        )
    except (InvalidSignature, ValueError):
        raise ProtocolError(
            "bad_signature", "the signature does not verify with the host's key"
        ) from None

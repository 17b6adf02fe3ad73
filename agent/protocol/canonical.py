"""Canonical JSON: one byte sequence per value, so hashes and signatures are reproducible."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (not \\u escapes), no NaN/Infinity."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def framed(*parts: bytes) -> bytes:
    """Each part as an 8-byte big-endian length and its bytes: an unambiguous concatenation
    for signing (no field can bleed into the next)."""
    return b"".join(len(part).to_bytes(8, "big") + part for part in parts)


def sha256_hex(data: bytes) -> str:
    # Imported here: hashlib loads OpenSSL's libcrypto (3 MB), which the service's
    # supervisor, importing this package for its trigger names, has no use for.
    import hashlib

    return hashlib.sha256(data).hexdigest()

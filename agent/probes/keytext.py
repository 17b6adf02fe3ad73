"""The text form of a responder's public key, as policies and the responder write it.

Kept apart from `nonce` (which needs the crypto library) so that loading a policy costs no
crypto import: `ed25519:<base64 of the 32 raw bytes>`; the prefix may be left out.
"""

from __future__ import annotations

import base64
import binascii

PUBLIC_KEY_PREFIX = "ed25519:"
PUBLIC_KEY_BYTES = 32


def strict_base64(text: str) -> bytes:
    """Decode base64, refusing anything that is not (no silent skipping of bad characters)."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("not base64") from None


def encode_public_key(raw: bytes) -> str:
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def decode_public_key(text: str) -> bytes:
    """The raw 32 key bytes; ValueError says what is wrong in words a policy author can act on."""
    encoded = text.strip()
    if encoded.lower().startswith(PUBLIC_KEY_PREFIX):
        encoded = encoded[len(PUBLIC_KEY_PREFIX) :]
    try:
        raw = strict_base64(encoded)
    except ValueError:
        raise ValueError(
            f"not base64; write {PUBLIC_KEY_PREFIX!r} followed by the base64 of the key"
        ) from None
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ValueError(
            f"an Ed25519 public key is {PUBLIC_KEY_BYTES} bytes; this one is {len(raw)}"
        )
    return raw

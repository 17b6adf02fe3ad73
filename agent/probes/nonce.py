"""The signed-answer scheme: how a probe proves that the real responder answered.

A probe that only checks "did something answer?" is fooled by a captive portal, a
transparent proxy or a fake server on the intranet. So the agent sends a fresh random nonce
and the responder (run by the institution *outside* its network) signs it with an Ed25519
key whose public half is in the policy. Only a valid signature over *our* nonce proves that
the request left the building and came back.

The signed message is domain-separated (`PROBE_DOMAIN + nonce`) so a responder signature can
never be replayed as, or confused with, a signature of any other Custos protocol (reports,
snapshots) even if an institution reused a key by mistake.

Text forms, shared by the responder, the probes and the policy:
    public key   "ed25519:<base64 of the 32 raw bytes>"
    nonce        64 lowercase hex digits (32 bytes)
    signature    base64 of the 64-byte Ed25519 signature
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from agent.probes.keytext import (
    decode_public_key,
    encode_public_key,
    strict_base64,
)

PROBE_DOMAIN = b"custos-probe-v1\x00"
NONCE_BYTES = 32
SIGNATURE_BYTES = 64


def new_nonce() -> bytes:
    """A fresh nonce for one probe: never reused, so an old answer proves nothing now."""
    return secrets.token_bytes(NONCE_BYTES)


def signed_message(nonce: bytes) -> bytes:
    """The exact bytes a responder signs for `nonce`."""
    return PROBE_DOMAIN + nonce


def sign_nonce(private_key: Ed25519PrivateKey, nonce: bytes) -> bytes:
    return private_key.sign(signed_message(nonce))


def encode_signature(signature: bytes) -> str:
    return base64.b64encode(signature).decode("ascii")


def decode_nonce(text: str) -> bytes:
    """A nonce from its hex form (any case: DNS resolvers may change the case of names)."""
    if len(text) != 2 * NONCE_BYTES:
        raise ValueError(f"a nonce is {2 * NONCE_BYTES} hex digits, not {len(text)}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError("a nonce is hex digits only") from None


def check_signature(
    expected_key: bytes,
    nonce: bytes,
    signature_text: str | None,
    announced_key: str | None = None,
) -> tuple[bool, str]:
    """Whether `signature_text` is the expected key's signature over our nonce, and why not.

    `announced_key` is the key the answer *claims* to be signed with. It is never trusted; it
    only lets the evidence tell "signed by another responder key" (a policy naming the wrong
    key) from "not a valid signature at all" (a fake).
    """
    if signature_text is None or not signature_text.strip():
        return False, "no signature in the answer"
    try:
        signature = strict_base64(signature_text.strip())
    except ValueError:
        return False, "the signature is not base64"
    if len(signature) != SIGNATURE_BYTES:
        return False, f"the signature is {len(signature)} bytes, not {SIGNATURE_BYTES}"
    if _verifies(expected_key, nonce, signature):
        return True, f"signature over our nonce by {encode_public_key(expected_key)} verified"
    other = _decoded_or_none(announced_key)
    if other is not None and other != expected_key and _verifies(other, nonce, signature):
        return False, (
            f"signed by another key {encode_public_key(other)}, "
            f"not the policy key {encode_public_key(expected_key)}"
        )
    return (
        False,
        f"the signature does not verify with the policy key {encode_public_key(expected_key)}",
    )


def _verifies(key: bytes, nonce: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, signed_message(nonce))
    except InvalidSignature:
        return False
    return True


def _decoded_or_none(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return decode_public_key(text)
    except ValueError:
        return None

"""Proving who asks: the enrollment proof and the signature on an agent's GET requests.

Enrollment: the agent signs ENROLL_DOMAIN + token + its new public key with the matching
private key, proving it holds the key it asks the server to trust.

Requests (GET policy, GET commands): header
    Authorization: Custos host_id=<id>, ts=<unix seconds>, sig=<base64>
with sig over REQUEST_DOMAIN + framed(method, path with query, ts). The server refuses a
timestamp more than REQUEST_SKEW away; a replayed GET within that window only re-reads what
that host may read anyway.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.protocol.canonical import framed
from agent.protocol.errors import ProtocolError

ENROLL_DOMAIN = b"custos-enroll-v1\x00"
REQUEST_DOMAIN = b"custos-request-v1\x00"
REQUEST_SKEW = dt.timedelta(minutes=5)
_HEADER = re.compile(
    r"^Custos host_id=(h_[0-9a-f]{32}), ts=(\d{1,12}), sig=([A-Za-z0-9+/=]{86,90})$"
)


def enrollment_proof(private_key: Ed25519PrivateKey, token: str, public_key: bytes) -> str:
    message = ENROLL_DOMAIN + framed(token.encode("utf-8"), public_key)
    return base64.b64encode(private_key.sign(message)).decode("ascii")


def check_enrollment_proof(token: str, public_key: bytes, proof: str) -> None:
    try:
        signature = base64.b64decode(proof.encode("ascii"), validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, ENROLL_DOMAIN + framed(token.encode("utf-8"), public_key)
        )
    except (InvalidSignature, ValueError, UnicodeEncodeError, binascii.Error):
        raise ProtocolError("bad_proof", "the proof is not signed by the offered key") from None


def request_authorization(
    private_key: Ed25519PrivateKey, host_id: str, method: str, path: str, now: dt.datetime
) -> str:
    stamp = str(int(now.timestamp()))
    message = REQUEST_DOMAIN + framed(method.upper().encode(), path.encode("utf-8"), stamp.encode())
    signature = base64.b64encode(private_key.sign(message)).decode("ascii")
    return f"Custos host_id={host_id}, ts={stamp}, sig={signature}"


def parse_authorization(header: str) -> tuple[str, int, bytes]:
    match = _HEADER.match(header.strip())
    if not match:
        raise ProtocolError("unauthorized", "missing or malformed Custos Authorization header")
    try:
        signature = base64.b64decode(match.group(3), validate=True)
    except binascii.Error:
        raise ProtocolError("unauthorized", "the request signature is not base64") from None
    return match.group(1), int(match.group(2)), signature


def check_request(
    public_key: bytes, method: str, path: str, stamp: int, signature: bytes, now: dt.datetime
) -> None:
    try:
        moment = dt.datetime.fromtimestamp(stamp, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ProtocolError("clock_skew", "the request time is not a real time") from None
    if abs(now - moment) > REQUEST_SKEW:
        raise ProtocolError("clock_skew", "the request time is more than 5 minutes off")
    message = REQUEST_DOMAIN + framed(
        method.upper().encode(), path.encode("utf-8"), str(stamp).encode()
    )
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise ProtocolError("unauthorized", "the request signature does not verify") from None

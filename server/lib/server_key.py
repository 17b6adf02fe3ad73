"""The server's Ed25519 key: it signs policies and commands, and agents pin its public half.

Created on first use as `server_key.pem` (PKCS#8, mode 0600) in the data directory. Losing it
means every enrolled agent refuses the server's policies and commands until re-enrolled, so it
is never regenerated over an existing file, and an unreadable one stops the server.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.probes.keytext import encode_public_key
from server.lib.private_files import read_or_create

_lock = threading.Lock()
_loaded: dict[Path, Ed25519PrivateKey] = {}


class ServerKeyError(Exception):
    """The key file cannot be read or created, or is not an Ed25519 private key."""


def _new_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_server_key(path: Path) -> Ed25519PrivateKey:
    """The key in `path`, created there first if missing; read once per process."""
    with _lock:
        if path not in _loaded:
            try:
                pem = read_or_create(path, _new_key_pem)
            except OSError as exc:
                raise ServerKeyError(
                    f"{path}: cannot read or create: {exc.strerror or exc}"
                ) from None
            try:
                key = serialization.load_pem_private_key(pem, password=None)
            except (ValueError, TypeError) as exc:
                raise ServerKeyError(f"{path}: not a usable private key: {exc}") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise ServerKeyError(f"{path}: not an Ed25519 key")
            _loaded[path] = key
        return _loaded[path]


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PrivateKey) -> str:
    """`ed25519:<base64>`, the form the enrollment answer carries and agents pin."""
    return encode_public_key(public_key_bytes(key))


def current_server_key() -> Ed25519PrivateKey:
    """The key of this server, at the path the settings name."""
    from django.conf import settings

    return load_server_key(settings.CUSTOS_SERVER_KEY_PATH)

"""The snapshot file: one ZIP archive whose manifest lists, hashes and signs every member.

    manifest.json   {"format","version","created_at","unit","server_key":{"algorithm",
                     "public_key","fingerprint_sha256"},"audit_head","counts",
                     "members":[{"name","sha256","size"}]}   (canonical JSON)
    manifest.sig    base64 Ed25519 signature over SNAPSHOT_DOMAIN + the manifest's exact bytes
    snapshot.json, hosts.csv, findings.csv, software.csv, snapshot.html,
    reports/<host_id>/<seq>.envelope   (every other member, each listed in the manifest)

The signature covers the manifest and the manifest covers every other member by SHA-256 and
size, so one signature check plus one hash per member proves the whole archive is as the
server wrote it. The ZIP's own CRCs and directory are not trusted for anything.

Nothing here imports Django: `verify` reads files with this module on an auditor's laptop.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.protocol.canonical import canonical_json
from agent.protocol.documents import SNAPSHOT_DOMAIN, sign

FORMAT = "custos-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SNAPSHOT = "snapshot.json"
REPORTS_DIR = "reports"
ENVELOPE_SUFFIX = ".envelope"
MAX_NAME_LENGTH = 255
MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a manifest of ~1 million members
_SIGNATURE_MAX_BYTES = 1024


class NotASnapshotError(Exception):
    """The file cannot be read as a snapshot at all (no ZIP, no manifest, another format)."""


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, lowercase hex: what a unit publishes."""
    return hashlib.sha256(public_key).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as people copy it (upper case, colons, spaces) in the form we print."""
    return "".join(char for char in text.lower() if char not in ": -\t")


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def envelope_name(host_id: str, seq: int) -> str:
    return f"{REPORTS_DIR}/{host_id}/{seq}{ENVELOPE_SUFFIX}"


def unsafe_name(name: str) -> str | None:
    """Why `name` may not be a member name (extraction could escape or clash), or None."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return "empty or overlong member name"
    if any(ord(char) < 32 or ord(char) == 127 for char in name) or "\\" in name:
        return "control character or backslash in the member name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute member name"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "member name with an empty, '.' or '..' part (path traversal)"
    return None


@dataclass(frozen=True)
class Member:
    name: str
    sha256: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Written:
    path: Path
    manifest: dict[str, Any]
    sha256: str  # of the whole file, for the audit log
    fingerprint: str


class BundleWriter:
    """Writes members into a temporary file beside the target; `finish` signs and renames it.

    Members go into the archive as they are added (envelopes are the bulk of a snapshot and
    need not all be held in memory). Until `finish` renames it, the target is untouched, so
    an interrupted export never leaves a half-written file where the auditor expects one.
    """

    def __init__(self, target: Path, created_at: dt.datetime) -> None:
        self.target = target
        self.created_at = created_at
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        self._temp = Path(name)
        self._file: IO[bytes] = os.fdopen(handle, "w+b")
        self._zip = zipfile.ZipFile(self._file, "w", compression=zipfile.ZIP_DEFLATED)
        self._members: list[Member] = []
        self._names: set[str] = {MANIFEST, SIGNATURE}

    def add(self, name: str, data: bytes) -> None:
        problem = unsafe_name(name)
        if problem is not None or name in self._names:
            raise ValueError(f"{name!r}: {problem or 'added twice'}")
        self._names.add(name)
        self._write(name, data)
        self._members.append(Member(name, hashlib.sha256(data).hexdigest(), len(data)))

    def _write(self, name: str, data: bytes) -> None:
        moment = self.created_at.astimezone(dt.timezone.utc)
        info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self._zip.writestr(info, data)

    def finish(self, fields: dict[str, Any], key: Ed25519PrivateKey) -> Written:
        """Add the manifest (`fields` + format, key and members) and its signature; rename."""
        public = raw_public_key(key)
        manifest = {
            **fields,
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "server_key": {
                "algorithm": "ed25519",
                "public_key": base64.b64encode(public).decode("ascii"),
                "fingerprint_sha256": fingerprint(public),
            },
            "members": [member.as_json() for member in sorted(self._members, key=_by_name)],
        }
        data = canonical_json(manifest)
        self._write(MANIFEST, data)
        self._write(SIGNATURE, sign(key, SNAPSHOT_DOMAIN, data).encode("ascii") + b"\n")
        self._zip.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: self._file.read(1024 * 1024), b""):
            digest.update(block)
        self._file.close()
        self._temp.replace(self.target)
        return Written(self.target, manifest, digest.hexdigest(), fingerprint(public))

    def abort(self) -> None:
        """Throw the temporary file away (after an error); the target stays as it was."""
        with contextlib.suppress(OSError, ValueError):  # a failed write may fail again
            self._zip.close()
        self._file.close()
        self._temp.unlink(missing_ok=True)


def _by_name(member: Member) -> str:
    return member.name


# --- reading -------------------------------------------------------------------------------


class Bundle:
    """A snapshot file opened for checking; nothing in it is trusted yet."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
            self.infos = self._zip.infolist()
        except (OSError, zipfile.BadZipFile, ValueError) as exc:
            raise NotASnapshotError(f"cannot read it as a ZIP archive: {exc}") from None
        self.names = [info.filename for info in self.infos]
        if MANIFEST not in self.names:
            self.close()
            raise NotASnapshotError(f"it has no {MANIFEST}: not a Custos snapshot")

    def count(self, name: str) -> int:
        return self.names.count(name)

    def read(self, name: str, limit: int) -> bytes:
        """At most `limit` + 1 bytes of the first member called `name` (so that an inflated
        member larger than it claims is noticed without inflating all of it)."""
        with self._zip.open(name) as stream:
            return stream.read(limit + 1)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

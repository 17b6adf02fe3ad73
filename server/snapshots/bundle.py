"""The snapshot file: a ZIP archive of a fixed set of members, listed, hashed and signed by
its manifest; writing it, streamed, in constant memory.

    manifest.json   {"format","version","created_at","unit","server_key":{"algorithm",
                     "public_key","fingerprint_sha256"},"audit_head","counts",
                     "members":[{"name","sha256","size"}]}   (canonical JSON)
    manifest.sig    base64 Ed25519 signature over SNAPSHOT_DOMAIN + the manifest's exact bytes
    snapshot.json   the host records, one per line (`document`)
    reports.jsonl   the agents' signed envelopes, one per line (`document`)
    hosts.csv, findings.csv, software.csv, snapshot.html
                    derived from snapshot.json alone (`derived`): verify regenerates them

The signature covers the manifest and the manifest covers every other member by SHA-256 and
size, so one signature check plus one hash per member proves the whole archive is as the
server wrote it. The ZIP's own CRCs and directory are not trusted for anything.

The member set is fixed, so the archive's directory and the manifest stay a few hundred
bytes whatever the number of hosts: reading either costs the same for ten PCs or a
province. Members are written as streams and hashed while written; nothing holds a member,
let alone the archive, in memory.

The limits below are the ceilings `verify` reads within, whatever a manifest claims; `create`
refuses to write what verify would refuse to read.

Nothing here imports Django: `verify` reads files with this package on an auditor's laptop.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.protocol.canonical import canonical_json
from agent.protocol.documents import SNAPSHOT_DOMAIN, sign

FORMAT = "custos-snapshot"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SNAPSHOT = "snapshot.json"
REPORTS = "reports.jsonl"
HOSTS_CSV = "hosts.csv"
FINDINGS_CSV = "findings.csv"
SOFTWARE_CSV = "software.csv"
PAGE = "snapshot.html"
# Every member the manifest lists, in the order they are written and checked.
MEMBERS = (SNAPSHOT, REPORTS, HOSTS_CSV, FINDINGS_CSV, SOFTWARE_CSV, PAGE)

# --- the ceilings verify reads within (independent of anything the file states) ------------
MAX_NAME_LENGTH = 255
MAX_ARCHIVE_MEMBERS = 64  # a snapshot has 8; more is not a snapshot
MAX_DIRECTORY_BYTES = 256 * 1024  # the ZIP central directory of at most that many members
MAX_MANIFEST_BYTES = 64 * 1024
MAX_SIGNATURE_BYTES = 1024
MAX_LINE_BYTES = 16 * 1024 * 1024  # one host record, one report, one CSV row, one page line
MAX_MEMBER_BYTES = 64 * 1024**3  # about a million hosts
# Inflated size over stored size. Snapshot members compress 3-30 times (deflate at level 1);
# a ZIP bomb of zeros reaches about 1000.
MAX_COMPRESSION_RATIO = 200
DEFLATE_LEVEL = 1  # 3-4 times faster than zlib's default, for a slightly larger file
COPY_CHUNK = 1024 * 1024


class NotASnapshotError(Exception):
    """The file cannot be read as a snapshot at all (no ZIP, no manifest, another format)."""


class UnverifiableError(ValueError):
    """What `create` would write is something `verify` would refuse (over a ceiling)."""


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, lowercase hex: what a unit publishes."""
    return hashlib.sha256(public_key).hexdigest()


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as people copy it (upper case, colons, spaces) in the form we print."""
    return "".join(char for char in text.lower() if char not in ": -\t")


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


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


class HashingWriter:
    """A member being written: every byte goes to the archive and into its SHA-256."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._stream.write(data)
        self._digest.update(data)
        self.size += len(data)

    def copy(self, source: IO[bytes]) -> None:
        """All of `source` from its current position, a megabyte at a time."""
        for block in iter(lambda: source.read(COPY_CHUNK), b""):
            self.write(block)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class BundleWriter:
    """Writes members into a temporary file beside the target; `finish` signs and renames it.

    One member is open at a time (ZIP writes members one after another). Until `finish`
    renames it, the target is untouched, so an interrupted export never leaves a
    half-written file where the auditor expects one.
    """

    def __init__(self, target: Path, created_at: dt.datetime) -> None:
        self.target = target
        self.created_at = created_at
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        self._temp = Path(name)
        self._file: IO[bytes] = os.fdopen(handle, "w+b")
        self._zip = zipfile.ZipFile(self._file, "w")
        self._members: list[Member] = []

    @contextlib.contextmanager
    def member(self, name: str, *, compress: bool = True) -> Iterator[HashingWriter]:
        """Write member `name` through the writer yielded; listed when the block ends.

        `compress=False` stores it as it is: the report envelopes are mostly base64 of
        gzip, which deflate shrinks by a fifth at a tenth of the speed of everything else.
        """
        if name not in MEMBERS or any(member.name == name for member in self._members):
            raise ValueError(f"{name!r}: not a snapshot member, or written twice")
        info = zipfile.ZipInfo(name, date_time=_zip_time(self.created_at))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        _set_level(info, DEFLATE_LEVEL)
        info.external_attr = 0o644 << 16
        # force_zip64: the size is not known in advance and may pass 4 GiB.
        with self._zip.open(info, "w", force_zip64=True) as stream:
            writer = HashingWriter(stream)
            yield writer
        self._members.append(Member(name, writer.hexdigest(), writer.size))

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
            "members": [member.as_json() for member in self._members],
        }
        data = canonical_json(manifest)
        if len(data) > MAX_MANIFEST_BYTES:
            raise UnverifiableError(f"{MANIFEST} would be over {MAX_MANIFEST_BYTES} bytes")
        for name, content in (
            (MANIFEST, data),
            (SIGNATURE, sign(key, SNAPSHOT_DOMAIN, data).encode("ascii") + b"\n"),
        ):
            info = zipfile.ZipInfo(name, date_time=_zip_time(self.created_at))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            self._zip.writestr(info, content)
        self._zip.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.seek(0)
        digest = hashlib.sha256()
        for block in iter(lambda: self._file.read(COPY_CHUNK), b""):
            digest.update(block)
        self._file.close()
        self._temp.replace(self.target)
        return Written(self.target, manifest, digest.hexdigest(), fingerprint(public))

    def abort(self) -> None:
        """Throw the temporary file away (after an error); the target stays as it was."""
        with contextlib.suppress(OSError, ValueError, RuntimeError):  # it may fail again
            self._zip.close()
        self._file.close()
        self._temp.unlink(missing_ok=True)


def _zip_time(moment: dt.datetime) -> tuple[int, int, int, int, int, int]:
    utc = moment.astimezone(dt.timezone.utc)
    return (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)


def _set_level(info: zipfile.ZipInfo, level: int) -> None:
    """The deflate level of one member. ZipInfo has had the attribute since Python 3.7, named
    `compress_level` from 3.13 on (the old private name still works there)."""
    name = "compress_level" if hasattr(info, "compress_level") else "_compresslevel"
    setattr(info, name, level)

"""`custos-server verify FILE`: check a snapshot offline, with no database and no settings.

    1. archive    a readable ZIP with a manifest.json of this format        (else exit 2)
    2. signature  manifest.sig verifies, with the key the manifest embeds, over the exact
                  manifest bytes; with --fingerprint, that key is the expected one
    3. members    exactly the manifest's members are in the archive: none missing, none
                  added, none twice, no name that could escape a folder when extracted;
                  each has the listed size and SHA-256
    4. evidence   every report envelope verifies with its host's key (Ed25519, as the agent
                  signed it); each host's identity, policy, per-rule results and inventory in
                  snapshot.json equal what its signed full report says; a confirming
                  heartbeat names that report's state hash

What this proves and what it does not is in docs/snapshots.md. Above all: the manifest key
proves nothing by itself (anyone can sign with a key of their own); the fingerprint printed
must be compared with the one the unit publishes, out of band.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import sys
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.protocol.documents import SNAPSHOT_DOMAIN
from agent.protocol.documents import verify as verify_signature
from agent.protocol.envelope import HOST_ID, decode_envelope, load_json_object, verify_envelope
from agent.protocol.errors import ProtocolError
from server.snapshots import signed
from server.snapshots.bundle import (
    ENVELOPE_SUFFIX,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    REPORTS_DIR,
    SIGNATURE,
    SNAPSHOT,
    Bundle,
    NotASnapshotError,
    envelope_name,
    fingerprint,
    normalise_fingerprint,
    unsafe_name,
)

VALID, INVALID, NOT_A_SNAPSHOT = 0, 1, 2
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError)


@dataclass(frozen=True)
class Problem:
    member: str
    reason: str


@dataclass
class Outcome:
    unit: str = ""
    created_at: str = ""
    fingerprint: str = ""
    fingerprint_matched: bool = False  # --fingerprint given and equal
    hosts: int = 0
    reports: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def verify_snapshot(path: Path, expected_fingerprint: str | None = None) -> Outcome:
    """Check the snapshot at `path`; NotASnapshotError when it cannot be read as one at all."""
    with Bundle(path) as bundle:
        return _Checker(bundle).run(expected_fingerprint)


class _Checker:
    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.outcome = Outcome()
        self.sizes: dict[str, int] = {}  # listed members, by name
        self.named: set[str] = set()  # envelopes some host names

    def problem(self, member: str, reason: str) -> None:
        self.outcome.problems.append(Problem(member, reason))

    def run(self, expected_fingerprint: str | None) -> Outcome:
        manifest_bytes, manifest = self._manifest()
        key = self._server_key(manifest)
        self._signature(manifest_bytes, key)
        if expected_fingerprint is not None and key is not None:
            expected = normalise_fingerprint(expected_fingerprint)
            if expected == self.outcome.fingerprint:
                self.outcome.fingerprint_matched = True
            else:
                self.problem(
                    MANIFEST,
                    f"signed by the key with fingerprint {self.outcome.fingerprint}, "
                    f"not the expected {expected}",
                )
        self._members(manifest)
        self._snapshot(manifest)
        return self.outcome

    # --- 1. and 2.: manifest and signature -------------------------------------------------

    def _manifest(self) -> tuple[bytes, dict[str, Any]]:
        try:
            data = self.bundle.read(MANIFEST, MAX_MANIFEST_BYTES)
        except _READ_ERRORS as exc:
            raise NotASnapshotError(f"{MANIFEST} cannot be read: {exc}") from None
        if len(data) > MAX_MANIFEST_BYTES:
            raise NotASnapshotError(f"{MANIFEST} is over {MAX_MANIFEST_BYTES} bytes")
        try:
            manifest = load_json_object(data, MANIFEST)
        except ProtocolError as exc:
            raise NotASnapshotError(exc.detail) from None
        if manifest.get("format") != FORMAT:
            raise NotASnapshotError(f"{MANIFEST} is not a {FORMAT} manifest")
        if manifest.get("version") != FORMAT_VERSION:
            raise NotASnapshotError(
                f"snapshot format version {manifest.get('version')!r}; "
                f"this verify reads version {FORMAT_VERSION}"
            )
        for name in ("unit", "created_at"):
            value = manifest.get(name)
            setattr(self.outcome, name, value if isinstance(value, str) else "")
        return data, manifest

    def _server_key(self, manifest: Mapping[str, Any]) -> bytes | None:
        server_key = manifest.get("server_key")
        server_key = server_key if isinstance(server_key, Mapping) else {}
        raw = _base64(server_key.get("public_key"))
        if raw is None or len(raw) != 32:
            self.problem(MANIFEST, "it names no usable Ed25519 server public key")
            return None
        self.outcome.fingerprint = fingerprint(raw)
        if server_key.get("fingerprint_sha256") != self.outcome.fingerprint:
            self.problem(MANIFEST, "the fingerprint it states is not that of the key it embeds")
        return raw

    def _signature(self, manifest_bytes: bytes, key: bytes | None) -> None:
        if self.bundle.count(SIGNATURE) == 0:
            self.problem(SIGNATURE, "missing: the manifest is not signed")
            return
        if key is None:
            return
        try:
            text = self.bundle.read(SIGNATURE, 1024).decode("ascii").strip()
            verify_signature(key, SNAPSHOT_DOMAIN, manifest_bytes, text)
        except (*_READ_ERRORS, UnicodeDecodeError, ProtocolError):
            self.problem(
                SIGNATURE,
                "does not verify with the server key in manifest.json: the manifest was "
                "changed after signing, or the signature was made with another key",
            )

    # --- 3.: members -----------------------------------------------------------------------

    def _members(self, manifest: Mapping[str, Any]) -> None:
        listed: dict[str, str] = {}
        members = manifest.get("members")
        for item in members if isinstance(members, list) else []:
            name, digest, size = (
                (item.get("name"), item.get("sha256"), item.get("size"))
                if isinstance(item, Mapping)
                else (None, None, None)
            )
            if (
                not isinstance(name, str)
                or not isinstance(digest, str)
                or not _HEX64.match(digest)
                or not isinstance(size, int)
                or isinstance(size, bool)
                or size < 0
            ):
                self.problem(MANIFEST, f"malformed member entry {item!r:.200}")
                continue
            reason = unsafe_name(name)
            if reason is not None:
                self.problem(name, reason)
            elif name in listed or name in (MANIFEST, SIGNATURE):
                self.problem(MANIFEST, f"lists {name!r} twice")
            else:
                listed[name] = digest
                self.sizes[name] = size
        if not isinstance(members, list):
            self.problem(MANIFEST, "it has no list of members")
        for name in sorted(set(self.bundle.names)):
            copies = self.bundle.count(name)
            if copies > 1:
                self.problem(name, f"appears {copies} times in the archive")
            reason = unsafe_name(name)
            if reason is not None:
                self.problem(name, reason)
            elif name not in listed and name not in (MANIFEST, SIGNATURE):
                self.problem(name, "not listed in the manifest (added after signing)")
        for name, digest in listed.items():
            if self.bundle.count(name) == 0:
                self.problem(name, "listed in the manifest but missing from the archive")
                continue
            data = self._read(name)
            if data is None:
                continue
            if len(data) != self.sizes[name]:
                shown = f"over {self.sizes[name]}" if len(data) > self.sizes[name] else len(data)
                self.problem(name, f"{shown} bytes; the manifest says {self.sizes[name]}")
            elif hashlib.sha256(data).hexdigest() != digest:
                self.problem(
                    name, "its SHA-256 does not match the manifest (changed after signing)"
                )

    def _read(self, name: str) -> bytes | None:
        """A listed member's bytes (at most one byte past its listed size), or None after
        saying why it cannot be read."""
        try:
            return self.bundle.read(name, self.sizes[name])
        except _READ_ERRORS as exc:
            self.problem(name, f"cannot be read from the archive: {exc}")
            return None

    # --- 4.: snapshot.json against the signed reports --------------------------------------

    def _snapshot(self, manifest: Mapping[str, Any]) -> None:
        if SNAPSHOT not in self.sizes or self.bundle.count(SNAPSHOT) == 0:
            if SNAPSHOT not in self.sizes:
                self.problem(SNAPSHOT, "not listed in the manifest")
            return
        data = self._read(SNAPSHOT)
        if data is None:
            return
        try:
            snapshot = load_json_object(data, SNAPSHOT)
        except ProtocolError as exc:
            self.problem(SNAPSHOT, exc.detail)
            return
        for name in ("unit", "created_at"):
            if snapshot.get(name) != manifest.get(name):
                self.problem(SNAPSHOT, f"its {name} is not the manifest's")
        hosts = snapshot.get("hosts")
        if not isinstance(hosts, list):
            self.problem(SNAPSHOT, "it has no list of hosts")
            return
        self.outcome.hosts = len(hosts)
        for index, host in enumerate(hosts):
            if isinstance(host, Mapping):
                _HostCheck(self, host, index).run()
            else:
                self.problem(SNAPSHOT, f"host #{index + 1} is not an object")
        envelopes = sorted(
            name
            for name in self.sizes
            if name.startswith(REPORTS_DIR + "/") and name.endswith(ENVELOPE_SUFFIX)
        )
        self.outcome.reports = len(envelopes)
        for name in envelopes:
            if name not in self.named:
                self.problem(name, "no host in snapshot.json names this report")
        counts = manifest.get("counts")
        expected = {"hosts": self.outcome.hosts, "reports": self.outcome.reports}
        if counts != expected:
            self.problem(MANIFEST, f"its counts {counts!r} are not what it holds ({expected})")


def _base64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None


class _HostCheck:
    """One host of snapshot.json against the envelopes it names."""

    def __init__(self, checker: _Checker, host: Mapping[str, Any], index: int) -> None:
        self.checker = checker
        self.host = host
        self.index = index
        self.host_id = ""

    def problem(self, reason: str) -> None:
        label = self.host_id or f"#{self.index + 1}"
        self.checker.problem(SNAPSHOT, f"host {label}: {reason}")

    def run(self) -> None:
        host_id = self.host.get("host_id")
        if not isinstance(host_id, str) or not HOST_ID.match(host_id):
            self.problem("no valid host_id")
            return
        self.host_id = host_id
        key = _base64(self.host.get("public_key"))
        if key is None or len(key) != 32:
            self.problem("no usable Ed25519 public key")
            key = None
        references = self.host.get("rests_on")
        if not isinstance(references, list):
            self.problem("no list of the reports its results rest on")
            return
        payloads: dict[str, tuple[int, dict[str, Any]]] = {}
        for reference in references:
            loaded = self._report(reference, key)
            if loaded is not None:
                role, seq, payload = loaded
                if role in payloads:
                    self.problem(f"names two reports as {role!r}")
                payloads[role] = (seq, payload)
        if "results" in payloads:
            self._compare(*payloads["results"])
            if "confirms" in payloads:
                self._confirms(payloads["results"], payloads["confirms"])
        elif self.host.get("results") and not any(
            isinstance(item, Mapping) and item.get("role") == "results" for item in references
        ):  # (a named report that failed its checks was reported above)
            self.problem("it has per-rule results but names no signed full report for them")

    def _report(self, reference: Any, key: bytes | None) -> tuple[str, int, dict[str, Any]] | None:
        if not isinstance(reference, Mapping):
            self.problem("a malformed report reference")
            return None
        seq, role, kind = reference.get("seq"), reference.get("role"), reference.get("kind")
        if (
            reference.get("host_id") != self.host_id
            or not isinstance(seq, int)
            or isinstance(seq, bool)
            or seq < 1
            or (role, kind) not in (("results", "full"), ("confirms", "heartbeat"))
        ):
            self.problem(f"a malformed report reference {dict(reference)!r:.200}")
            return None
        name = envelope_name(self.host_id, seq)
        self.checker.named.add(name)
        if self.checker.bundle.count(name) == 0:
            if name not in self.checker.sizes:
                self.problem(f"names report #{seq}, which is not in the snapshot")
            return None  # a listed member that is missing was reported as such
        if name not in self.checker.sizes:
            return None  # so was a member the manifest does not list
        body = self.checker._read(name)
        if body is None or key is None:
            return None
        try:
            envelope = decode_envelope(body, max_bytes=len(body))
        except ProtocolError as exc:
            self.checker.problem(name, f"not a report envelope: {exc.detail}")
            return None
        if envelope.host_id != self.host_id or envelope.seq != seq:
            self.checker.problem(
                name, f"holds report #{envelope.seq} of {envelope.host_id}, not this one"
            )
            return None
        try:
            verify_envelope(envelope, key)
        except ProtocolError:
            self.checker.problem(name, "the agent's signature does not verify with the host's key")
            return None
        try:
            payload = signed.payload_of(envelope)
        except ProtocolError as exc:
            self.checker.problem(name, f"its payload cannot be read: {exc.detail}")
            return None
        if payload.get("kind") != kind:
            self.checker.problem(name, f"a {payload.get('kind')!r} report, named as {kind!r}")
            return None
        return str(role), seq, payload

    def _compare(self, seq: int, payload: dict[str, Any]) -> None:
        where = f"signed report #{seq}"
        for name, value in signed.identity(payload).items():
            if self.host.get(name) != value:
                self.problem(f"{name} {self.host.get(name)!r:.100} is not what {where} says")
        if self.host.get("policy") != signed.policy(payload):
            self.problem(f"policy {self.host.get('policy')!r:.200} is not what {where} says")
        self._results(where, signed.results(payload))
        for name, value in signed.inventory(payload).items():
            if self.host.get(name) != value:
                self.problem(f"{name} is not what {where} says")

    def _results(self, where: str, expected: list[dict[str, Any]]) -> None:
        claimed_list = self.host.get("results")
        claimed_list = claimed_list if isinstance(claimed_list, list) else []
        claimed = {
            str(item.get("rule")): {name: item.get(name) for name in signed.RESULT_FIELDS}
            for item in claimed_list
            if isinstance(item, Mapping)
        }
        if len(claimed) != len(claimed_list):
            self.problem("its results are malformed or name a rule twice")
        signed_results = {item["rule"]: item for item in expected}
        for rule in sorted(set(claimed) | set(signed_results)):
            mine, theirs = claimed.get(rule), signed_results.get(rule)
            if mine is None:
                self.problem(f"rule {rule}: in {where}, missing from the snapshot")
            elif theirs is None:
                self.problem(f"rule {rule}: in the snapshot, not in {where}")
            elif mine != theirs:
                fields = [name for name in signed.RESULT_FIELDS if mine[name] != theirs[name]]
                detail = ", ".join(
                    f"{name} {mine[name]!r:.60} (signed: {theirs[name]!r:.60})" for name in fields
                )
                self.problem(f"rule {rule}: {detail}: not what {where} says")
        required = [
            {key: item[key] for key in ("rule", "title", "installed", "running")}
            for item in expected
            if item["installed"] is not None
        ]
        if self.host.get("required_software") != required:
            self.problem(f"required_software is not what {where} says")

    def _confirms(
        self, results: tuple[int, dict[str, Any]], confirms: tuple[int, dict[str, Any]]
    ) -> None:
        (full_seq, full), (seq, heartbeat) = results, confirms
        if seq <= full_seq:
            self.problem(f"heartbeat #{seq} is not later than full report #{full_seq}")
        if heartbeat.get("state_hash") != full.get("state_hash"):
            self.problem(
                f"heartbeat #{seq} names state {heartbeat.get('state_hash')!r:.70}, "
                f"full report #{full_seq} has {full.get('state_hash')!r:.70}"
            )


# --- the command ---------------------------------------------------------------------------

FINGERPRINT_ADVICE = (
    "Compare this fingerprint with the one your unit publishes (its server shows it with "
    "`custos-server key fingerprint`): a snapshot signed with any other key proves nothing."
)


def run(file: str, expected_fingerprint: str | None) -> int:
    """Print the verdict for `file`; the exit status of `custos-server verify`."""
    try:
        outcome = verify_snapshot(Path(file), expected_fingerprint)
    except NotASnapshotError as exc:
        print(f"custos-server: {file}: not a readable snapshot: {exc}", file=sys.stderr)
        return NOT_A_SNAPSHOT
    if outcome.valid:
        print("valid")
    for problem in outcome.problems:
        print(f"{file}: {problem.member}: {problem.reason}")
    print(f"unit: {outcome.unit}")
    print(f"created_at: {outcome.created_at}")
    print(f"hosts: {outcome.hosts}")
    print(f"reports: {outcome.reports}")
    print(f"server key fingerprint (SHA-256): {outcome.fingerprint}")
    if outcome.fingerprint_matched:
        print("the server key is the expected one (--fingerprint)")
    else:
        print(FINGERPRINT_ADVICE)
    if not outcome.valid:
        print(f"INVALID: {len(outcome.problems)} problem(s)", file=sys.stderr)
        return INVALID
    return VALID

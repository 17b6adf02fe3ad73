"""`custos-server verify FILE`: check a snapshot offline, with no database and no settings.

    1. archive    a ZIP whose directory a snapshot could have (read within the ceilings of
                  `archive`), with one manifest.json of this format and version (else exit 2)
    2. signature  manifest.sig verifies, with the key the manifest embeds, over the exact
                  manifest bytes — checked before anything else is read, and nothing else is
                  read when it fails; with --fingerprint, that key is the expected one
    3. members    exactly the manifest's members are in the archive: none missing, none
                  added, none twice, no name that could escape a folder when extracted, none
                  that would inflate past a ceiling; each has the listed size and SHA-256
                  (hashed while it is read for the checks below)
    4. evidence   host by host through snapshot.json, with reports.jsonl read alongside:
                  every report envelope verifies with its host's key (Ed25519, as the agent
                  signed it); each host's identity, policy, per-rule results, inventory and
                  compliance state equal what its signed full report says; a confirming
                  heartbeat names that report's state hash; the summary and the manifest's
                  counts are what the records add up to
    5. derived    the CSVs and the page are regenerated from snapshot.json (`derived`) and
                  compared row by row with the archive's; the first differing row is named
                  (`derived_check`: for a large file, in a second process beside step 4)

Everything is streamed: memory holds one host record, its reports and a chunk of each member,
so a province's snapshot costs time, not memory, and a forged one cannot cost either beyond
the ceilings. What this proves and what it does not is in docs/snapshots.md. Above all: the
manifest key proves nothing by itself (anyone can sign with a key of their own); the
fingerprint printed must be compared with the one the unit publishes, out of band.

Exit status: 0 valid, 1 problems found, 2 not a snapshot (or a usage error), 3 verify itself
failed (a bug): said in one line, without a traceback, and never taken for a verdict.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.protocol.documents import SNAPSHOT_DOMAIN
from agent.protocol.documents import verify as verify_signature
from agent.protocol.envelope import HOST_ID, decode_envelope, load_json_object, verify_envelope
from agent.protocol.errors import ProtocolError
from server.snapshots import derived_check, signed, workers
from server.snapshots.archive import Archive, MemberError, MemberStream
from server.snapshots.bundle import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MAX_LINE_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_SIGNATURE_BYTES,
    MEMBERS,
    REPORTS,
    SIGNATURE,
    SNAPSHOT,
    NotASnapshotError,
    fingerprint,
    normalise_fingerprint,
    unsafe_name,
)
from server.snapshots.derived import DERIVED
from server.snapshots.document import (
    STATES,
    UNKNOWN,
    Header,
    LayoutError,
    SnapshotLines,
    Tally,
)
from server.snapshots.problems import Problem, Problems

VALID, INVALID, NOT_A_SNAPSHOT, CRASHED = 0, 1, 2, 3
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Outcome:
    unit: str = ""
    created_at: str = ""
    fingerprint: str = ""
    fingerprint_matched: bool = False  # --fingerprint given and equal
    hosts: int = 0
    reports: int = 0
    states: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # found beyond MAX_PROBLEMS, not kept

    @property
    def valid(self) -> bool:
        return not self.problems


def verify_snapshot(
    path: Path, expected_fingerprint: str | None = None, *, parallel: bool | None = None
) -> Outcome:
    """Check the snapshot at `path`; NotASnapshotError when it cannot be read as one at all.

    `parallel`: check the derived members in a worker process (`workers`); by default when
    the file is large and there is a second core. The outcome is the same either way.
    """
    with Archive(path) as archive:
        checker = _Checker(archive, parallel)
        checker.run(expected_fingerprint)
        checker.outcome.problems = checker.found.kept
        checker.outcome.more_problems = checker.found.more
        return checker.outcome


class _Checker:
    def __init__(self, archive: Archive, parallel: bool | None) -> None:
        self.archive = archive
        self.parallel = parallel
        self.outcome = Outcome()
        self.found = Problems()
        self.listed: dict[str, tuple[str, int]] = {}  # readable listed members: sha256, size
        self.streams: dict[str, MemberStream] = {}

    def problem(self, member: str, reason: str) -> None:
        self.found.add(member, reason)

    def run(self, expected_fingerprint: str | None) -> None:
        manifest_bytes, manifest = self._manifest()
        key = self._server_key(manifest)
        if key is None or not self._signature(manifest_bytes, key):
            return  # nothing in the file can be trusted: read nothing more
        if expected_fingerprint is not None:
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
        try:
            self._contents(manifest)
        finally:
            for stream in self.streams.values():
                stream.close()

    # --- 1. and 2.: manifest and signature -------------------------------------------------

    def _manifest(self) -> tuple[bytes, dict[str, Any]]:
        copies = self.archive.copies.get(MANIFEST, 0)
        if copies == 0:
            raise NotASnapshotError(f"it has no {MANIFEST}: not a Custos snapshot")
        if copies > 1:
            raise NotASnapshotError(f"it has {copies} members called {MANIFEST}")
        try:
            data = self.archive.read_small(MANIFEST, MAX_MANIFEST_BYTES)
        except MemberError as exc:
            raise NotASnapshotError(f"{MANIFEST} {exc}") from None
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

    def _signature(self, manifest_bytes: bytes, key: bytes) -> bool:
        copies = self.archive.copies.get(SIGNATURE, 0)
        if copies != 1:
            self.problem(
                SIGNATURE,
                "missing: the manifest is not signed"
                if copies == 0
                else f"appears {copies} times in the archive",
            )
            return False
        try:
            text = self.archive.read_small(SIGNATURE, MAX_SIGNATURE_BYTES).decode("ascii").strip()
            verify_signature(key, SNAPSHOT_DOMAIN, manifest_bytes, text)
        except (MemberError, UnicodeDecodeError, ProtocolError):
            self.problem(
                SIGNATURE,
                "does not verify with the server key in manifest.json: the manifest was "
                "changed after signing, or the signature was made with another key "
                "(nothing else in the file was read)",
            )
            return False
        return True

    # --- 3.: members -----------------------------------------------------------------------

    def _members(self, manifest: Mapping[str, Any]) -> None:
        listed: dict[str, tuple[str, int]] = {}
        members = manifest.get("members")
        if not isinstance(members, list):
            self.problem(MANIFEST, "it has no list of members")
            members = []
        for item in members[: len(MEMBERS) * 4]:  # more cannot all be members: named below
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
            elif name in listed:
                self.problem(MANIFEST, f"lists {name!r:.100} twice")
            elif name not in MEMBERS:
                self.problem(MANIFEST, f"lists {name!r:.100}, which is not a snapshot member")
            else:
                listed[name] = (digest, size)
        if len(members) > len(MEMBERS) * 4:
            self.problem(MANIFEST, f"lists {len(members)} members; a snapshot has {len(MEMBERS)}")
        for name in MEMBERS:
            if name not in listed:
                self.problem(name, "not listed in the manifest")
        for name in self.archive.names:
            copies = self.archive.copies[name]
            reason = unsafe_name(name)
            if copies > 1:
                self.problem(name, f"appears {copies} times in the archive")
            if reason is not None:
                self.problem(name, reason)
            elif name not in listed and name not in (MANIFEST, SIGNATURE):
                self.problem(name, "not listed in the manifest (added after signing)")
        for name, (digest, size) in listed.items():
            if not self.archive.has(name):
                self.problem(name, "listed in the manifest but missing from the archive")
            elif self.archive.copies[name] == 1:  # of two copies, which is meant is unknown
                ceiling = self.archive.ceiling_problem(name)
                if ceiling is not None:
                    self.problem(name, ceiling)
                else:
                    self.listed[name] = (digest, size)

    def _open(self, name: str) -> MemberStream | None:
        if name not in self.listed:
            return None
        try:
            stream = self.archive.stream(name)
        except MemberError as exc:
            self.problem(name, str(exc))
            del self.listed[name]  # said once; not tried again
            return None
        self.streams[name] = stream
        return stream

    def _hashes(self, names: tuple[str, ...]) -> None:
        """Each member read to its end: its size and SHA-256 against the manifest."""
        for name in names:
            stream = self.streams.get(name) or self._open(name)
            if stream is None:
                continue
            try:
                stream.drain()
            except MemberError as exc:
                self.problem(name, str(exc))
                continue
            digest, size = self.listed[name]
            if stream.size != size:
                self.problem(name, f"{stream.size} bytes; the manifest says {size}")
            elif stream.hexdigest() != digest:
                self.problem(
                    name, "its SHA-256 does not match the manifest (changed after signing)"
                )

    # --- 4. and 5.: host by host, and the derived members ---------------------------------

    def _contents(self, manifest: Mapping[str, Any]) -> None:
        derived = {
            name: self.listed[name]
            for name in (SNAPSHOT, *(member.name for member in DERIVED))
            if name in self.listed
        }
        parallel = self.parallel
        if parallel is None:
            parallel = workers.worth_it(self.listed.get(SNAPSHOT, ("", 0))[1])
        request = {"path": str(self.archive.path), "listed": derived}
        worker = workers.Worker.start(derived_check.__name__, request) if parallel else None
        found = None
        try:
            snapshot = self._open(SNAPSHOT)
            if snapshot is not None:
                _Contents(self, snapshot, manifest).run()
            self._hashes((SNAPSHOT, REPORTS))
            if worker is not None:
                try:
                    found = Problems.from_json(worker.answer())
                except ValueError:
                    found = None  # the worker failed: do its part here
        finally:
            if worker is not None:
                worker.stop()
        if found is None:
            found = derived_check.check(self.archive, derived)
        self.found.extend(found)


class _Contents:
    """snapshot.json host by host, with reports.jsonl read alongside (step 4)."""

    def __init__(self, checker: _Checker, snapshot: MemberStream, manifest: Mapping[str, Any]):
        self.checker = checker
        self.lines = SnapshotLines(snapshot)
        self.manifest = manifest
        self.reports = _Reports(checker, checker._open(REPORTS))
        self.tally = Tally()

    def problem(self, reason: str) -> None:
        self.checker.problem(SNAPSHOT, reason)

    def run(self) -> None:
        try:
            self._header(self.lines.header())
            for number, body in self.lines.hosts():
                try:
                    record = load_json_object(body, f"line {number}")
                except ProtocolError as exc:
                    self.problem(exc.detail)
                    record = {}
                self.tally.add(record.get("state"))
                _HostCheck(self, record, number).run()
            summary = self.lines.summary()
            if summary != self.tally.as_json():
                self.problem(
                    f"its summary {summary!r:.300} is not what its hosts add up to "
                    f"({self.tally.as_json()})"
                )
        except (LayoutError, MemberError) as exc:
            self.problem(str(exc))
        outcome = self.checker.outcome
        outcome.hosts, outcome.states = self.tally.hosts, dict(self.tally.states)
        outcome.reports = self.reports.finish()
        counts = self.manifest.get("counts")
        expected = {"reports": outcome.reports, **self.tally.as_json()}
        if counts != expected:
            self.checker.problem(
                MANIFEST, f"its counts {counts!r:.300} are not what it holds ({expected})"
            )

    def _header(self, fields: dict[str, Any]) -> None:
        header = Header(*(_string(fields.get(name)) for name in Header.FIELDS))
        if fields != header.as_json():
            self.problem(f"line 1: its header {fields!r:.300} is not a version 2 snapshot's")
        for name in ("unit", "created_at"):
            if fields.get(name) != self.manifest.get(name):
                self.problem(f"its {name} is not the manifest's")
        if header.fingerprint != self.checker.outcome.fingerprint:
            self.problem("the server key fingerprint it states is not that of the manifest's key")


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _base64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return None


@dataclass(frozen=True)
class _Line:
    number: int
    host_id: str
    seq: int
    envelope: bytes


class _Reports:
    """reports.jsonl, read alongside snapshot.json: each host takes the lines that follow
    for it. At most MAX_PER_HOST are held; more lines for one host are reported, not kept."""

    MAX_PER_HOST = 2

    def __init__(self, checker: _Checker, stream: MemberStream | None) -> None:
        self.checker = checker
        self.stream = stream
        self.next: _Line | None = None
        self.count = 0
        self._advance()

    def problem(self, number: int, reason: str) -> None:
        self.checker.problem(REPORTS, f"line {number}: {reason}")

    def _advance(self) -> None:
        """The next well-formed line into `next` (malformed ones are reported and skipped)."""
        self.next = None
        while self.stream is not None:
            try:
                line = self.stream.line(MAX_LINE_BYTES)
            except MemberError as exc:
                self.checker.problem(REPORTS, str(exc))
                self.stream = None
                return
            if line is None:
                return
            self.count += 1
            number = self.stream.lines
            try:
                item = load_json_object(line, f"{REPORTS} line {number}")
            except ProtocolError as exc:
                self.checker.problem(REPORTS, exc.detail)
                continue
            host_id, seq, envelope = item.get("host_id"), item.get("seq"), item.get("envelope")
            if (
                set(item) != {"envelope", "host_id", "seq"}
                or not isinstance(host_id, str)
                or not isinstance(seq, int)
                or isinstance(seq, bool)
                or not isinstance(envelope, str)
            ):
                self.problem(number, "not a report line ({envelope, host_id, seq})")
                continue
            try:
                body = envelope.encode("utf-8")
            except UnicodeEncodeError:
                self.problem(number, "its envelope is not text a report could be")
                continue
            self.next = _Line(number, host_id, seq, body)
            return

    def take(self, host_id: str) -> list[_Line]:
        """The lines that follow for `host_id`."""
        lines: list[_Line] = []
        while self.next is not None and self.next.host_id == host_id:
            if len(lines) < self.MAX_PER_HOST:
                lines.append(self.next)
            else:
                self.unnamed(self.next)
            self._advance()
        return lines

    def unnamed(self, line: _Line) -> None:
        self.problem(
            line.number,
            f"report #{line.seq} of {line.host_id!r:.40}: no host in snapshot.json names it here",
        )

    def finish(self) -> int:
        """Report every line left over; the number of report lines."""
        while self.next is not None:
            self.unnamed(self.next)
            self._advance()
        return self.count


class _HostCheck:
    """One host of snapshot.json against the envelopes it names."""

    def __init__(self, contents: _Contents, host: Mapping[str, Any], number: int) -> None:
        self.contents = contents
        self.checker = contents.checker
        self.host = host
        self.number = number
        self.host_id = ""

    def problem(self, reason: str) -> None:
        label = self.host_id or f"on line {self.number}"
        self.contents.problem(f"host {label}: {reason}")

    def run(self) -> None:
        host_id = self.host.get("host_id")
        if not isinstance(host_id, str) or not HOST_ID.match(host_id):
            self.problem("no valid host_id")
            return
        self.host_id = host_id
        lines = {line.seq: line for line in self.contents.reports.take(host_id)}
        key = _base64(self.host.get("public_key"))
        if key is None or len(key) != 32:
            self.problem("no usable Ed25519 public key")
            key = None
        references = self.host.get("rests_on")
        if not isinstance(references, list):
            self.problem("no list of the reports its results rest on")
            references = []
        payloads: dict[str, tuple[int, dict[str, Any]]] = {}
        checked_results = True
        for reference in references:
            loaded = self._report(reference, key, lines)
            if loaded is None:
                if isinstance(reference, Mapping) and reference.get("role") == "results":
                    checked_results = False
                continue
            role, seq, payload = loaded
            if role in payloads:
                self.problem(f"names two reports as {role!r}")
            payloads[role] = (seq, payload)
        for line in lines.values():
            self.contents.reports.unnamed(line)
        if "results" in payloads:
            self._compare(*payloads["results"])
            if "confirms" in payloads:
                self._confirms(payloads["results"], payloads["confirms"])
        elif checked_results:
            if self.host.get("results"):
                self.problem("it has per-rule results but names no signed full report for them")
            self._state(UNKNOWN, "it names no signed full report")

    def _report(
        self, reference: Any, key: bytes | None, lines: dict[int, _Line]
    ) -> tuple[str, int, dict[str, Any]] | None:
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
        line = lines.pop(seq, None)
        if line is None:
            self.problem(f"names report #{seq}, which is not in {REPORTS} with its host")
            return None
        where = f"line {line.number}"
        try:
            envelope = decode_envelope(line.envelope, max_bytes=len(line.envelope))
        except ProtocolError as exc:
            self.contents.reports.problem(line.number, f"not a report envelope: {exc.detail}")
            return None
        if envelope.host_id != self.host_id or envelope.seq != seq:
            self.contents.reports.problem(
                line.number, f"holds report #{envelope.seq} of {envelope.host_id}, not this one"
            )
            return None
        if key is None:
            return None
        try:
            verify_envelope(envelope, key)
        except ProtocolError:
            self.contents.reports.problem(
                line.number,
                f"report #{seq} of {self.host_id}: the agent's signature does not verify "
                "with the host's key",
            )
            return None
        try:
            payload = signed.payload_of(envelope)
        except ProtocolError as exc:
            self.contents.reports.problem(line.number, f"its payload cannot be read: {exc.detail}")
            return None
        if payload.get("kind") != kind:
            self.checker.problem(
                REPORTS, f"{where}: a {payload.get('kind')!r:.40} report, named as {kind!r}"
            )
            return None
        return str(role), seq, payload

    def _compare(self, seq: int, payload: dict[str, Any]) -> None:
        where = f"signed report #{seq}"
        for name, value in signed.identity(payload).items():
            if self.host.get(name) != value:
                self.problem(f"{name} {self.host.get(name)!r:.100} is not what {where} says")
        if self.host.get("policy") != signed.policy(payload):
            self.problem(f"policy {self.host.get('policy')!r:.200} is not what {where} says")
        expected = signed.results(payload)
        self._results(where, expected)
        for name, value in signed.inventory(payload).items():
            if self.host.get(name) != value:
                self.problem(f"{name} is not what {where} says")
        self._state(signed.state(item["status"] for item in expected), f"{where} gives")

    def _state(self, expected: str, why: str) -> None:
        claimed = self.host.get("state")
        if claimed != expected:
            self.problem(f"state {claimed!r:.40} is not {expected!r}: {why}")

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
    """Print the verdict for `file`; the exit status of `custos-server verify`.

    An exception nothing here expects is a bug in verify, not a verdict on the file: it is
    said in one line (an auditor has no use for a traceback) with its own exit status, so
    that no script takes it for "problems found".
    """
    try:
        return _report(file, expected_fingerprint)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        print(
            f"custos-server: verify stopped by an internal error ({detail:.300}); {file} was "
            "not judged. This is a bug in Custos: please report it with this line.",
            file=sys.stderr,
        )
        return CRASHED


def _report(file: str, expected_fingerprint: str | None) -> int:
    try:
        outcome = verify_snapshot(Path(file), expected_fingerprint)
    except NotASnapshotError as exc:
        print(f"custos-server: {file}: not a readable snapshot: {exc}", file=sys.stderr)
        return NOT_A_SNAPSHOT
    if outcome.valid:
        print("valid")
    for problem in outcome.problems:
        print(f"{file}: {problem.member}: {problem.reason}")
    if outcome.more_problems:
        print(f"{file}: … and {outcome.more_problems} more problem(s), not listed")
    print(f"unit: {outcome.unit}")
    print(f"created_at: {outcome.created_at}")
    print(f"hosts: {outcome.hosts}")
    if outcome.states:
        print("states: " + ", ".join(f"{s} {outcome.states.get(s, 0)}" for s in STATES))
    print(f"reports: {outcome.reports}")
    print(f"server key fingerprint (SHA-256): {outcome.fingerprint}")
    if outcome.fingerprint_matched:
        print("the server key is the expected one (--fingerprint)")
    else:
        print(FINGERPRINT_ADVICE)
    if not outcome.valid:
        total = len(outcome.problems) + outcome.more_problems
        print(f"INVALID: {total} problem(s)", file=sys.stderr)
        return INVALID
    return VALID

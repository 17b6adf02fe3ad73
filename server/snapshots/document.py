"""snapshot.json and reports.jsonl: the host records and the signed reports, a line each.

snapshot.json is one JSON document that any JSON reader loads, laid out so that it can be
written and checked one host at a time (a province's snapshot never has to fit in memory):

    {"created_at":"…","format":"custos-snapshot","server_key_fingerprint":"…","unit":"…","version":2,"hosts":[
    {…host record…},
    {…host record…}
    ],"summary":{"hosts":2,"states":{"compliant":1,"noncompliant":1,"unchecked":0,"unknown":0}}}

Line 1 is the header's canonical JSON with its closing brace replaced by `,"hosts":[`; then
one host record per line in canonical JSON, each but the last followed by `,`; the last line
is `],"summary":` with the summary's canonical JSON and `}`. Every line ends with a line feed.

reports.jsonl holds one line per report the records rest on, host by host in the order of
snapshot.json and, for each host, in the order of its `rests_on`: the canonical JSON of
{"envelope", "host_id", "seq"}, where `envelope` is the envelope the agent sent as a JSON
string — its UTF-8 encoding is the envelope byte for byte (`jq -r .envelope` prints it).

Nothing here imports Django.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agent.protocol.canonical import canonical_json
from agent.protocol.envelope import load_json_object
from agent.protocol.errors import ProtocolError
from server.snapshots.archive import MemberStream
from server.snapshots.bundle import (
    FORMAT,
    FORMAT_VERSION,
    MAX_LINE_BYTES,
    SNAPSHOT,
    UnverifiableError,
)

HOSTS_OPEN = b',"hosts":['
SUMMARY_OPEN = b'],"summary":'
# A PC's state (agent.protocol.compliance) or, with no full report to judge by, unknown.
STATES = ("compliant", "noncompliant", "unchecked", "unknown")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Header:
    """What snapshot.json says before its hosts, and every derived member repeats."""

    unit: str
    created_at: str
    fingerprint: str  # of the server key that signs the manifest

    FIELDS: ClassVar[tuple[str, ...]] = ("unit", "created_at", "server_key_fingerprint")

    def as_json(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "format": FORMAT,
            "server_key_fingerprint": self.fingerprint,
            "unit": self.unit,
            "version": FORMAT_VERSION,
        }


@dataclass
class Tally:
    """The summary: hosts, and hosts by state."""

    hosts: int = 0
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))

    def add(self, state: Any) -> None:
        self.hosts += 1
        if isinstance(state, str) and state in self.states:
            self.states[state] += 1

    def as_json(self) -> dict[str, Any]:
        return {"hosts": self.hosts, "states": dict(self.states)}


def header_line(header: Header) -> bytes:
    return canonical_json(header.as_json())[:-1] + HOSTS_OPEN + b"\n"


def end_line(tally: Tally) -> bytes:
    return SUMMARY_OPEN + canonical_json(tally.as_json()) + b"}\n"


def host_json(record: dict[str, Any]) -> bytes:
    """A host record's line (without the separator), refused over the ceiling verify reads."""
    data = canonical_json(record)
    if len(data) + 2 > MAX_LINE_BYTES:
        raise UnverifiableError(
            f"host {record.get('host_id')}: its record is over {MAX_LINE_BYTES} bytes"
        )
    return data


def report_line(host_id: str, seq: int, envelope: bytes) -> bytes:
    """The reports.jsonl line of one stored envelope.

    Stored envelopes were accepted as strict UTF-8 JSON, so they decode; the JSON string
    escapes their line breaks and quotes, and encoding it back gives the same bytes.
    """
    try:
        text = envelope.decode("utf-8")
    except UnicodeDecodeError:
        raise UnverifiableError(f"host {host_id}: stored report #{seq} is not UTF-8") from None
    line = canonical_json({"envelope": text, "host_id": host_id, "seq": seq}) + b"\n"
    if len(line) > MAX_LINE_BYTES:
        raise UnverifiableError(f"host {host_id}: report #{seq} is over {MAX_LINE_BYTES} bytes")
    return line


class HostLines:
    """Writes the hosts of snapshot.json, holding one line back to know if a comma follows."""

    def __init__(self, write: Any) -> None:
        self._write = write
        self._pending: bytes | None = None

    def add(self, line: bytes) -> None:
        if self._pending is not None:
            self._write(self._pending + b",\n")
        self._pending = line

    def close(self) -> None:
        if self._pending is not None:
            self._write(self._pending + b"\n")
            self._pending = None


# --- reading snapshot.json back --------------------------------------------------------------


class LayoutError(Exception):
    """snapshot.json is not laid out as `create` writes it (the message says where)."""


class SnapshotLines:
    """snapshot.json read back from a member stream: `header`, then `hosts` (each host
    record's line as bytes, with its line number), then `summary`; each a LayoutError when
    the document is not laid out as above. MemberError from the stream passes through."""

    def __init__(self, stream: MemberStream) -> None:
        self.stream = stream
        self.summary_line: tuple[int, bytes] | None = None

    def header(self) -> dict[str, Any]:
        line = self.stream.line(MAX_LINE_BYTES)
        suffix = HOSTS_OPEN + b"\n"
        if line is None or not line.endswith(suffix):
            raise LayoutError(f"line 1 does not open the list of hosts (…{suffix!r})")
        try:
            return load_json_object(line[: -len(suffix)] + b"}", f"{SNAPSHOT} line 1")
        except ProtocolError as exc:
            raise LayoutError(exc.detail) from None

    def hosts(self) -> Iterator[tuple[int, bytes]]:
        """Each host's record line (JSON, without the separator); then `summary_line` holds
        the last line."""
        more = True  # the previous host line ended with a comma (or there was none yet)
        first = True
        while True:
            line = self.stream.line(MAX_LINE_BYTES)
            if line is None:
                raise LayoutError(f"line {self.stream.lines + 1}: it ends before its summary")
            number = self.stream.lines
            if line.startswith(SUMMARY_OPEN):
                if more and not first:
                    raise LayoutError(f"line {number - 1}: a comma after the last host")
                self.summary_line = (number, line)
                return
            if not more:
                raise LayoutError(f"line {number}: a host after the last one (no comma before)")
            body = line[:-1] if line.endswith(b"\n") else line
            more = body.endswith(b",")
            first = False
            yield number, body[:-1] if more else body

    def summary(self) -> dict[str, Any]:
        """The summary, once `hosts` is exhausted; the document must end with it."""
        if self.summary_line is None:
            raise LayoutError("the hosts were not read to the end")
        number, line = self.summary_line
        body = line[len(SUMMARY_OPEN) :]
        if not body.endswith(b"}\n"):
            raise LayoutError(f"line {number}: the summary line does not close the document")
        try:
            summary = load_json_object(body[:-2], f"{SNAPSHOT} line {number}")
        except ProtocolError as exc:
            raise LayoutError(exc.detail) from None
        if not self.stream.at_end():
            raise LayoutError(f"line {number + 1}: more after the end of the document")
        return summary

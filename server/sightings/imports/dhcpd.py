"""ISC dhcpd's lease database, `dhcpd.leases` (dhcpd.leases(5)).

The file is a sequence of statements; dhcpd appends a new `lease ADDRESS { … }` block each
time a lease changes and rewrites the file now and then, so an address can appear several
times and the last block is the current one. What is read from a block:

    hardware ethernet 00:1b:21:3a:4f:5c;         the device
    cltt 3 2024/03/13 01:14:03;                  client's last transaction (UTC), else
    starts 3 2024/03/13 01:14:03;                when the lease began
    binding state active;                        active, free, expired, released, abandoned, …
    client-hostname "DESKTOP-7Q2K9L";

Times are UTC, or `epoch 1710292443;` with `db-time-format local`. `host NAME { hardware
ethernet …; fixed-address …; }` declarations that dhcpd writes for OMAPI-added hosts are read
as devices too (without a time). Other statements (server-duid, failover state, authoring
byte order) are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from server.sightings.imports.common import (
    Parsed,
    UnusableFileError,
    ViewBuilder,
    at_most,
    ip_or_empty,
)
from server.sightings.recording import Seen

# A comment, a quoted string (with \" escapes), a brace, a semicolon, or other characters.
_PIECE = re.compile(r'#.*|"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"#]+')
_DATE = re.compile(r"^\d \d{4}/\d{1,2}/\d{1,2}$")
_MAX_DEPTH = 8


@dataclass
class Statement:
    line: int
    words: list[str]
    body: list[Statement] | None = None  # the statements inside { }, if it has a block


def _pieces(text: str) -> list[tuple[int, str]]:
    return [
        (number, piece)
        for number, line in enumerate(text.splitlines(), 1)
        for piece in _PIECE.findall(line)
        if not piece.startswith("#")
    ]


def _statements(
    pieces: list[tuple[int, str]], index: int = 0, depth: int = 0
) -> tuple[list[Statement], int]:
    """The statements from `index` to the end (depth 0) or to the closing brace."""
    if depth > _MAX_DEPTH:
        raise UnusableFileError(f"line {pieces[index - 1][0]}: blocks nested too deeply")
    result: list[Statement] = []
    words: list[str] = []
    start = 0
    while index < len(pieces):
        line, piece = pieces[index]
        index += 1
        if piece == ";":
            if words:
                result.append(Statement(start, words))
            words = []
        elif piece == "{":
            body, index = _statements(pieces, index, depth + 1)
            result.append(Statement(start or line, words, body))
            words = []
        elif piece == "}":
            if not depth:
                raise UnusableFileError(f"line {line}: '}}' without a block to close")
            return result, index
        else:
            if not words:
                start = line
            words.append(piece)
    if depth:
        raise UnusableFileError("a block that is never closed: the file ends inside it")
    return result, index


def _time(words: list[str]) -> dt.datetime | None:
    """`3 2024/03/13 01:14:03` (weekday, date, time; UTC) or `epoch 1710292443`."""
    try:
        if words[:1] == ["epoch"]:
            return dt.datetime.fromtimestamp(int(words[1]), dt.timezone.utc)
        if len(words) >= 3 and _DATE.match(f"{words[0]} {words[1]}"):
            moment = dt.datetime.strptime(f"{words[1]} {words[2]}", "%Y/%m/%d %H:%M:%S")
            return moment.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError, OSError, IndexError):
        return None
    return None


def _unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] == '"':
        return re.sub(r"\\(.)", r"\1", word[1:-1])
    return word


def parse(text: str, now: dt.datetime) -> Parsed:
    builder = ViewBuilder()
    statements, _ = _statements(_pieces(text))
    blocks = [s for s in statements if s.body is not None and s.words[:1] in (["lease"], ["host"])]
    if not blocks and not any(s.words[:1] == ["authoring-byte-order"] for s in statements):
        raise UnusableFileError("no lease or host block: this is not a dhcpd.leases file")
    hosts: dict[str, Statement] = {}  # by name: a later block replaces or deletes it
    for block in blocks:
        if block.words[0] == "host":
            name = block.words[1] if len(block.words) > 1 else ""
            if any(inner.words == ["deleted"] for inner in block.body or []):
                hosts.pop(name, None)
            else:
                hosts[name] = block
    leases = [block for block in blocks if block.words[0] == "lease"]
    for block in [*leases, *hosts.values()]:
        line, words = block.line, block.words
        fields: dict[str, list[str]] = {}
        for inner in (statement.words for statement in block.body or []):
            if inner[:2] == ["hardware", "ethernet"]:
                fields["mac"] = inner[2:3]
            elif inner[:2] == ["binding", "state"]:
                fields["state"] = inner[2:3]
            elif inner[:1] in (["cltt"], ["starts"], ["client-hostname"], ["fixed-address"]):
                fields[inner[0]] = inner[1:]
        if "mac" not in fields:
            if words[0] == "host":
                builder.parsed.problem(line, "a host block without a hardware ethernet address")
            continue  # a lease never handed out names no device
        is_lease = words[0] == "lease"
        address = (
            words[1] if is_lease and len(words) > 1 else (fields.get("fixed-address") or [""])[0]
        )
        seen_at = _time(fields.get("cltt", [])) or _time(fields.get("starts", []))
        builder.add(
            line,
            (fields["mac"] or [""])[0],
            Seen(
                mac="",
                ip=ip_or_empty(address),
                name=_unquote((fields.get("client-hostname") or [""])[0]),
                state=(fields.get("state") or [""])[0] if is_lease else "host",
                at=at_most(seen_at, now),
            ),
        )
    return builder.result()

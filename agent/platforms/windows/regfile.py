"""Read `reg export` files: a `RegistryView` over recorded registry data.

Why: Windows cannot run where the agent is tested, and `reg export KEY FILE` is the one
recording format every Windows machine can produce without extra tools. The format, as
`reg.exe` and `regedit.exe` write it (version 5.00):

    <UTF-16 LE with BOM, CRLF line ends>
    Windows Registry Editor Version 5.00

    [HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]
    "Name"="C:\\\\Program Files\\\\App\\\\\\"quoted\\""     REG_SZ, only \\\\ and \\" escaped
    @="the default value"                                  name @ is the unnamed value
    "Count"=dword:0000001f                                 REG_DWORD, 8 hex digits
    "Blob"=hex:01,02,03                                    REG_BINARY
    "Path"=hex(2):25,00,53,00,00,00                        REG_EXPAND_SZ as UTF-16 LE bytes
    "Ids"=hex(7):41,00,00,00,42,00,00,00,00,00             REG_MULTI_SZ, NUL-separated
    "Big"=hex(b):01,00,00,00,00,00,00,00                   REG_QWORD, little-endian
    @=hex(ffff0010):00,c0,...                              any other type: hex(<type>)

Long hex data is wrapped: a line ends with `\\` and continues on the next, indented line.
Every key of the exported subtree gets its own `[...]` section, including keys with no values.
A 64-bit export of `HKLM\\SOFTWARE` holds the 32-bit view under `SOFTWARE\\WOW6432Node`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from agent.errors import CollectorError
from agent.platforms.windows.registry import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    Bitness,
    RegData,
    RegValue,
    split_root,
)

log = logging.getLogger(__name__)

HEADER = "Windows Registry Editor Version 5.00"
_BOM_UTF16LE = b"\xff\xfe"
_BOM_UTF8 = b"\xef\xbb\xbf"

ParsedKey = tuple[str, dict[str, RegValue]]


def decode_reg_file(data: bytes) -> str:
    """The text of a .reg file: UTF-16 LE with BOM as written by reg.exe, or UTF-8."""
    if data.startswith(_BOM_UTF16LE):
        return data[len(_BOM_UTF16LE) :].decode("utf-16-le")
    return data.removeprefix(_BOM_UTF8).decode("utf-8")


def parse_reg_export(text: str, origin: str = "<reg export>") -> list[ParsedKey]:
    """Every `[key]` section with its values, in file order. Raises CollectorError with
    `origin:line` on anything that is not the reg export format."""
    lines = text.splitlines()
    first = next((number for number, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != HEADER:
        raise CollectorError(f"{origin}: not a reg export (no {HEADER!r} header)")
    keys: list[ParsedKey] = []
    for number, line in _logical_lines(lines, first + 1):
        if not line.strip() or line.startswith(";"):
            continue
        where = f"{origin}:{number}"
        if line.startswith("["):
            path = line.rstrip()
            if not path.endswith("]") or path.startswith("[-"):
                raise CollectorError(f"{where}: not a key section: {line!r}")
            keys.append((path[1:-1], {}))
            continue
        if not keys:
            raise CollectorError(f"{where}: value before the first [key]")
        name, data = _split_value_line(line, where)
        if data == "-":  # a deletion (import files only): nothing to record
            continue
        try:
            keys[-1][1][name] = _parse_data(data, where)
        except _DamagedValueError as exc:
            # Real exports hold the odd broken string (a driver that wrote one byte too
            # many); losing one value beats losing every key of the file.
            log.warning("%s; value %r skipped", exc, name)
    return keys


class _DamagedValueError(CollectorError):
    """A value whose bytes cannot be what its type says; the rest of the file is fine."""


def _logical_lines(lines: list[str], start: int) -> Iterator[tuple[int, str]]:
    """Join wrapped lines: hex data continued after a trailing `\\`, and strings that hold
    a line break (reg.exe writes REG_SZ data verbatim, newlines included)."""
    index = start
    while index < len(lines):
        number, text = index + 1, lines[index]
        index += 1
        while index < len(lines):
            if not text.startswith("[") and _inside_quotes(text):
                text += "\n" + lines[index]
            elif not text.startswith("[") and text.endswith("\\") and not _inside_quotes(text):
                text = text[:-1] + lines[index].lstrip()
            else:
                break
            index += 1
        yield number, text


def _inside_quotes(text: str) -> bool:
    """Does `text` end inside a quoted name or string (escapes honoured)?"""
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
    return quoted


def _read_quoted(text: str, start: int, where: str) -> tuple[str, int]:
    """The unescaped string that starts with the quote at `start`, and the index after it."""
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in '\\"':
            out.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    raise CollectorError(f"{where}: unterminated string")


def _split_value_line(line: str, where: str) -> tuple[str, str]:
    if line.startswith("@="):
        return "", line[2:]
    if not line.startswith('"'):
        raise CollectorError(f"{where}: not a value line: {line!r}")
    name, end = _read_quoted(line, 0, where)
    if not line.startswith("=", end):
        raise CollectorError(f"{where}: expected '=' after the value name {name!r}")
    return name, line[end + 1 :]


def _parse_data(data: str, where: str) -> RegValue:
    if data.startswith('"'):
        text, end = _read_quoted(data, 0, where)
        if data[end:].strip():
            raise CollectorError(f"{where}: text after the closing quote")
        return RegValue(REG_SZ, text)
    kind, _, body = data.partition(":")
    kind = kind.strip().lower()
    if kind == "dword":
        digits = body.strip()
        if len(digits) != 8:
            raise CollectorError(f"{where}: dword needs 8 hex digits, got {digits!r}")
        return RegValue(REG_DWORD, _hex_int(digits, where))
    if kind == "hex":
        return RegValue(REG_BINARY, _hex_bytes(body, where))
    if kind.startswith("hex(") and kind.endswith(")"):
        value_type = _hex_int(kind[4:-1], where)
        return RegValue(value_type, _typed_bytes(value_type, _hex_bytes(body, where), where))
    raise CollectorError(f"{where}: unknown value data {data[:40]!r}")


def _hex_int(digits: str, where: str) -> int:
    try:
        return int(digits, 16)
    except ValueError:
        raise CollectorError(f"{where}: not hexadecimal: {digits!r}") from None


def _hex_bytes(body: str, where: str) -> bytes:
    compact = "".join(body.split()).replace(",", "")
    try:
        return bytes.fromhex(compact)
    except ValueError:
        raise CollectorError(f"{where}: bad hex byte list") from None


def _typed_bytes(value_type: int, raw: bytes, where: str) -> RegData:
    """Decode hex(N) data the way winreg returns that type."""
    if value_type in (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ):
        if len(raw) % 2:
            raise _DamagedValueError(f"{where}: UTF-16 data with an odd number of bytes")
        text = raw.decode("utf-16-le", errors="replace")
        if value_type != REG_MULTI_SZ:
            return text.split("\x00", 1)[0]
        # Strings end with NUL, the list with one more: an empty string would end the list.
        body = text.split("\x00\x00", 1)[0].strip("\x00")
        return tuple(body.split("\x00")) if body else ()
    if value_type in (REG_DWORD, REG_QWORD) and len(raw) in (4, 8):
        return int.from_bytes(raw, "little")
    return raw


class RegExportRegistry:
    """A `RegistryView` over one or more `reg export` files loaded together.

    Ancestors of exported keys exist implicitly (listing `HKLM\\SOFTWARE` shows the exported
    `WOW6432Node` even if `HKLM\\SOFTWARE` itself was not exported). The 32-bit view maps
    `HKLM\\SOFTWARE\\X` to `HKLM\\SOFTWARE\\WOW6432Node\\X`, as Windows does; HKCU\\Software
    and HKLM\\SYSTEM are shared between the views (Windows 7 and later).

    `single_view=True` replays an export from 32-bit Windows, which has one view only: there
    KEY_WOW64_32KEY is ignored and both views read the same keys.

    `reg export` does not record key last-write times; `key_times` supplies them where they
    were recorded another way (a hive parser's reading), keyed by path as exported.
    """

    def __init__(
        self,
        exports: Iterable[str | tuple[str, str]] = (),
        *,
        single_view: bool = False,
        key_times: Mapping[str, dt.datetime] | None = None,
    ) -> None:
        self._values: dict[str, dict[str, RegValue]] = {}
        self._children: dict[str, dict[str, str]] = {}
        self._single_view = single_view
        self._times = {self._key(path, Bitness.BIT64): t for path, t in (key_times or {}).items()}
        for export in exports:
            text, origin = (export, "<reg export>") if isinstance(export, str) else export
            for path, values in parse_reg_export(text, origin):
                self._add(path, values)

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path],
        *,
        single_view: bool = False,
        key_times: Mapping[str, dt.datetime] | None = None,
    ) -> RegExportRegistry:
        exports = []
        for path in paths:
            try:
                exports.append((decode_reg_file(path.read_bytes()), str(path)))
            except (OSError, UnicodeDecodeError) as exc:
                raise CollectorError(f"{path}: {exc}") from exc
        return cls(exports, single_view=single_view, key_times=key_times)

    def last_written(self, path: str, bitness: Bitness = Bitness.BIT64) -> dt.datetime | None:
        return self._times.get(self._key(path, bitness))

    def subkeys(self, path: str, bitness: Bitness = Bitness.BIT64) -> list[str]:
        return list(self._children.get(self._key(path, bitness), {}).values())

    def values(self, path: str, bitness: Bitness = Bitness.BIT64) -> dict[str, RegValue]:
        return dict(self._values.get(self._key(path, bitness), {}))

    def _add(self, path: str, values: dict[str, RegValue]) -> None:
        root, rest = split_root(path)
        parts = [root, *(part for part in rest.split("\\") if part)]
        for depth in range(1, len(parts)):
            parent = "\\".join(parts[:depth]).casefold()
            self._children.setdefault(parent, {})[parts[depth].casefold()] = parts[depth]
        self._values.setdefault("\\".join(parts).casefold(), {}).update(values)

    def _key(self, path: str, bitness: Bitness) -> str:
        root, rest = split_root(path)
        parts = [part for part in rest.split("\\") if part]
        redirected = (
            not self._single_view
            and bitness is Bitness.BIT32
            and root == "HKLM"
            and len(parts) > 1
            and parts[0].casefold() == "software"
            and parts[1].casefold() != "wow6432node"
        )
        if redirected:
            parts.insert(1, "WOW6432Node")
        return "\\".join([root, *parts]).casefold()

"""A `RegistryView` over registry hive files, read with regipy (no Windows needed).

Why: a user who is not logged on has no hive under HKEY_USERS, yet the programs installed for
them are still installed. Their `NTUSER.DAT` is an ordinary file then (nothing holds it open),
and reading it with a maintained hive parser changes nothing on the machine, unlike loading it
with RegLoadKey, which needs backup/restore privileges and writes to the hive. The same class
reads real hives from public forensic test sets in the tests.

Each hive file is mounted at the registry path it stands for:

    HiveFileRegistry({"HKU\\\\S-1-5-21-…-1001": Path("C:/Users/li/NTUSER.DAT"),
                      "HKLM\\\\SYSTEM": Path("SYSTEM")})

A SYSTEM hive has no `CurrentControlSet` (Windows makes that link at boot): it is resolved to
the `ControlSet00N` that `Select\\\\Current` names. Only the primary file is read: changes still
in its transaction logs (`.LOG1`/`.LOG2`, left by an unclean shutdown) are not seen.

Value types come from regipy's reading: device properties (type 0xFFFF0000 | DEVPROP_TYPE)
are reported by regipy without the 0xFFFF0000 flag, so a FILETIME property is given back as
REG_DEVPROP_FILETIME, the type `winreg` reports for it. Other device property types keep
their type but not their data (regipy misreads those stored inline in the value record).
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath
from typing import Any

from agent.errors import CollectorError
from agent.platforms.windows.registry import (
    REG_BINARY,
    REG_DEVPROP_FILETIME,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    Bitness,
    RegData,
    RegValue,
    filetime_to_datetime,
    split_root,
)

_TYPES = {
    "REG_SZ": REG_SZ,
    "REG_EXPAND": REG_EXPAND_SZ,
    "REG_EXPAND_SZ": REG_EXPAND_SZ,
    "REG_BINARY": REG_BINARY,
    "REG_NONE": 0,
    "REG_DWORD": REG_DWORD,
    "REG_MULTI_SZ": REG_MULTI_SZ,
    "REG_QWORD": REG_QWORD,
    "REG_FILETIME": REG_DEVPROP_FILETIME,
}
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


class HiveFileRegistry:
    """Read-only; a key that is missing (or not under any mount) reads as empty."""

    def __init__(self, mounts: Mapping[str, Path]) -> None:
        try:
            from regipy.registry import RegistryHive
        except ImportError as exc:  # pragma: no cover - regipy is a dependency on Windows
            raise CollectorError("reading hive files needs regipy") from exc
        self._hives: list[tuple[list[str], Any, str]] = []
        for mount, path in mounts.items():
            try:
                hive = RegistryHive(str(path))  # type: ignore[no-untyped-call]
            except Exception as exc:  # OSError, and regipy's and construct's own errors
                raise CollectorError(f"{path}: not a readable registry hive: {exc}") from exc
            parts = _parts(mount)
            self._hives.append((parts, hive, _current_control_set(hive)))
        self._keys: dict[tuple[int, tuple[str, ...]], Any] = {}

    def subkeys(self, path: str, bitness: Bitness = Bitness.BIT64) -> list[str]:
        key = self._find(path, bitness)
        return [] if key is None else [sub.name for sub in (key.iter_subkeys() or ())]

    def values(self, path: str, bitness: Bitness = Bitness.BIT64) -> dict[str, RegValue]:
        key = self._find(path, bitness)
        if key is None:
            return {}
        found: dict[str, RegValue] = {}
        for value in key.iter_values(as_json=False, trim_values=False) or ():
            name = "" if value.name == "(default)" else str(value.name)
            found[name] = _reg_value(value.value_type, value.value)
        return found

    def last_written(self, path: str, bitness: Bitness = Bitness.BIT64) -> dt.datetime | None:
        key = self._find(path, bitness)
        return None if key is None else filetime_to_datetime(int(key.header.last_modified))

    def _find(self, path: str, bitness: Bitness) -> Any:
        parts = _parts(path)
        if bitness is Bitness.BIT32 and _is_hklm_software(parts):
            parts.insert(2, "WOW6432Node")
        folded = [part.casefold() for part in parts]
        for mount, hive, control_set in self._hives:
            if folded[: len(mount)] != [part.casefold() for part in mount]:
                continue
            inside = parts[len(mount) :]
            if inside and inside[0].casefold() == "currentcontrolset" and control_set:
                inside = [control_set, *inside[1:]]
            return self._walk_cached(id(hive), hive, [part.casefold() for part in inside])
        return None

    def _walk_cached(self, hive_id: int, hive: Any, folded: list[str]) -> Any:
        """Walk from the nearest key already found: a hive parser finds a subkey by reading
        its parent's whole list, and the adapter asks for sibling after sibling."""
        cache_key = (hive_id, tuple(folded))
        if cache_key in self._keys:
            return self._keys[cache_key]
        key = hive.root if not folded else self._walk_cached(hive_id, hive, folded[:-1])
        if key is not None and folded:
            key = key.get_subkey(folded[-1], raise_on_missing=False)
        self._keys[cache_key] = key
        return key


def _parts(path: str) -> list[str]:
    root, rest = split_root(path)
    return [root, *(part for part in rest.split("\\") if part)]


def _is_hklm_software(parts: list[str]) -> bool:
    return (
        len(parts) > 2
        and parts[0] == "HKLM"
        and parts[1].casefold() == "software"
        and parts[2].casefold() != "wow6432node"
    )


def _walk(hive: Any, parts: list[str]) -> Any:
    key = hive.root
    for part in parts:
        key = key.get_subkey(part, raise_on_missing=False)
        if key is None:
            return None
    return key


def _current_control_set(hive: Any) -> str:
    """`ControlSet001` for a SYSTEM hive whose Select\\Current is 1; "" for other hives."""
    select = _walk(hive, ["Select"])
    if select is None:
        return ""
    for value in select.iter_values(as_json=False) or ():
        if str(value.name) == "Current" and isinstance(value.value, int):
            return f"ControlSet{value.value:03d}"
    return ""


def _reg_value(value_type: Any, data: Any) -> RegValue:
    """RegValue of a regipy value. Other types than the common ones (device properties
    other than FILETIME: 0x11 boolean, 0x12 string, ...; resource lists) keep regipy's type
    number but not their data: regipy misreads the small ones stored inline in the value
    record (it returns the rest of the file), and the adapter reads none of them."""
    kind = _TYPES.get(str(value_type))
    if kind is None:
        try:
            number = int(value_type)
        except (TypeError, ValueError):
            number = REG_BINARY
        return RegValue(number, b"")
    return RegValue(kind, _data(kind, data))


def _data(kind: int, data: Any) -> RegData:
    if kind == REG_DEVPROP_FILETIME and isinstance(data, dt.datetime):
        ticks = int((data - _FILETIME_EPOCH) / dt.timedelta(microseconds=1)) * 10
        return struct.pack("<Q", ticks)
    if kind == REG_MULTI_SZ and isinstance(data, list):
        return tuple(str(item) for item in data)
    if kind in (REG_SZ, REG_EXPAND_SZ):
        return data.rstrip("\x00") if isinstance(data, str) else ""
    if isinstance(data, (int, bytes)) and not isinstance(data, bool):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return b""


def open_user_hive(sid: str, hive: PureWindowsPath) -> HiveFileRegistry:
    """The `NTUSER.DAT` of a profile that is not loaded, as HKU\\<sid> (ProfileImagePath may
    hold `%SystemDrive%`, expanded here)."""
    return HiveFileRegistry({f"HKU\\{sid}": Path(os.path.expandvars(str(hive)))})

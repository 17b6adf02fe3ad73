"""Real registry hives for the Windows adapter's tests, and their conversion to `reg export`.

The hives come from public forensic test sets through `scripts/fetch-real-hives` (pinned by
SHA-256; source and licence in tests/fixtures/windows/README.md). Tests that need one skip,
naming that script, when it has not been fetched.

`reg_export` writes a subtree of a hive in `reg export` form using regipy alone (a maintained
hive parser that shares no code with the adapter), so the adapter's `.reg` reader and its
`HiveFileRegistry` can both be checked against an independent reading of real data.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from pathlib import Path
from typing import Any

import pytest

DISSECT_SYSTEM = "dissect.regf-3.14-SYSTEM"
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


def real_hive(name: str) -> Path:
    configured = os.environ.get("CUSTOS_REAL_HIVES")
    folder = Path(configured) if configured else Path.home() / ".cache" / "custos" / "real-hives"
    path = folder / name
    if not path.is_file():
        pytest.skip(f"real hive {name} not fetched: run scripts/fetch-real-hives")
    return path


def open_hive(path: Path) -> Any:
    from regipy.registry import RegistryHive

    return RegistryHive(str(path))


def reg_export(hive: Any, hive_path: str, exported_as: str) -> str:
    """`reg export` text of `hive_path` (e.g. `\\ControlSet001\\Enum\\USB`) and everything
    below it, written under the name `exported_as` (`HKEY_LOCAL_MACHINE\\SYSTEM\\…`)."""
    lines = ["Windows Registry Editor Version 5.00", ""]
    _key_lines(hive.get_key(hive_path), exported_as, lines)
    return "\r\n".join(lines) + "\r\n"


def _key_lines(key: Any, name: str, lines: list[str]) -> None:
    lines.append(f"[{name}]")
    for value in key.iter_values(as_json=False, trim_values=False) or ():
        label = "@" if value.name == "(default)" else '"' + _escape(value.name) + '"'
        lines.append(f"{label}={_data(value.value_type, value.value)}")
    lines.append("")
    for sub in key.iter_subkeys() or ():
        _key_lines(sub, f"{name}\\{sub.name}", lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _data(value_type: Any, value: Any) -> str:
    kind = str(value_type)
    if kind == "REG_SZ":
        return '"' + _escape(str(value).rstrip("\x00")) + '"'
    if kind == "REG_DWORD":
        return f"dword:{int(value):08x}"
    if kind == "REG_FILETIME":  # a device property: regipy drops the 0xFFFF0000 flag
        ticks = (value - _FILETIME_EPOCH) // dt.timedelta(microseconds=1) * 10
        return "hex(ffff0010):" + _hex(struct.pack("<Q", ticks))
    if kind in ("REG_EXPAND", "REG_EXPAND_SZ"):
        return "hex(2):" + _hex((str(value).rstrip("\x00") + "\x00").encode("utf-16-le"))
    if kind == "REG_MULTI_SZ":
        raw = "".join(f"{item}\x00" for item in value).encode("utf-16-le") + b"\x00\x00"
        return "hex(7):" + _hex(raw)
    if kind == "REG_QWORD":
        return "hex(b):" + _hex(struct.pack("<Q", int(value)))
    if kind in ("REG_BINARY", "REG_NONE") and isinstance(value, bytes):
        return ("hex:" if kind == "REG_BINARY" else "hex(0):") + _hex(value)
    # Other device property types and resource lists: regipy misreads small ones stored
    # inline (it returns the rest of the file) and the adapter reads none: type only.
    return f"hex({int(value_type):x}):"


def _hex(raw: bytes) -> str:
    return ",".join(f"{byte:02x}" for byte in raw)

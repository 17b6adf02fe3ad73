"""A read-only view of the Windows registry, and the implementation that reads the live one.

Everything in the Windows adapter that needs the registry asks a `RegistryView`, never `winreg`
directly: on Windows the view is `WinregRegistry`; in tests (and on any other OS) it is a
`RegExportRegistry` built from `reg export` files, so the same code runs against recorded data.

Paths are written the way `reg.exe` takes them: `HKLM\\SOFTWARE\\Microsoft\\...`, with the
long root names (`HKEY_LOCAL_MACHINE`) accepted too. Key and value names are case-insensitive,
as in the registry itself. A key that does not exist reads as having no subkeys and no values,
because "not installed" is an ordinary answer; a key the agent may not read is an error.

64-bit Windows keeps two views of `HKLM\\SOFTWARE`: 32-bit programs are redirected to
`HKLM\\SOFTWARE\\WOW6432Node`. The agent must ask for each view explicitly, or it sees only
half of the installed programs (and a 32-bit Python would not even see the MachineGuid).
"""

from __future__ import annotations

import datetime as dt
import enum
import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from agent.errors import Cause, CollectorError

# Value types (winnt.h). Device properties under `Properties\{fmtid}\NNNN` are stored with
# 0xFFFF0000 | DEVPROP_TYPE_*, e.g. 0xFFFF0010 for a FILETIME.
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11
REG_DEVPROP_FILETIME = 0xFFFF0010

RegData = str | int | bytes | tuple[str, ...]


class Bitness(enum.Enum):
    """Which registry view to read on 64-bit Windows (KEY_WOW64_64KEY / KEY_WOW64_32KEY)."""

    BIT64 = "64"
    BIT32 = "32"


@dataclass(frozen=True)
class RegValue:
    """One registry value: its type number and its data, decoded the way `winreg` does.

    REG_SZ/REG_EXPAND_SZ are `str` (not expanded), REG_MULTI_SZ a tuple of `str`,
    REG_DWORD/REG_QWORD an `int`, everything else the raw `bytes`.
    """

    type: int
    data: RegData

    def text(self) -> str:
        """The string of a REG_SZ or REG_EXPAND_SZ value; "" for any other type."""
        return self.data if isinstance(self.data, str) else ""

    def number(self) -> int | None:
        """The integer of a REG_DWORD or REG_QWORD value; None for any other type."""
        return self.data if isinstance(self.data, int) else None


class RegistryView(Protocol):
    """What the adapter needs from a registry: list a key's subkeys, read its values, and
    when a key was last written (Programs and Features shows that time as the install date of
    an entry without InstallDate; Windows 7 keeps no other time for a USB device)."""

    def subkeys(self, path: str, bitness: Bitness = Bitness.BIT64) -> list[str]: ...

    def values(self, path: str, bitness: Bitness = Bitness.BIT64) -> dict[str, RegValue]: ...

    def last_written(self, path: str, bitness: Bitness = Bitness.BIT64) -> dt.datetime | None:
        """The key's last-write time (UTC); None when the key is missing or the source
        does not record it (a `reg export` file does not)."""
        ...


class RegistryAccessDeniedError(CollectorError):
    """The key exists but this process may not read it (e.g. device `Properties` keys,
    which only LocalSystem can open)."""

    default_cause = Cause.PERMISSION_DENIED


def lookup(values: Mapping[str, RegValue], name: str) -> RegValue | None:
    """A value by name, case-insensitively as the registry compares names."""
    found = values.get(name)
    if found is not None:
        return found
    folded = name.casefold()
    return next((value for key, value in values.items() if key.casefold() == folded), None)


def text_value(values: Mapping[str, RegValue], name: str) -> str:
    found = lookup(values, name)
    return found.text() if found is not None else ""


def int_value(values: Mapping[str, RegValue], name: str) -> int | None:
    found = lookup(values, name)
    return found.number() if found is not None else None


_ROOT_ALIASES = {
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKEY_CURRENT_USER": "HKCU",
    "HKEY_USERS": "HKU",
    "HKEY_CLASSES_ROOT": "HKCR",
    "HKEY_CURRENT_CONFIG": "HKCC",
}


def split_root(path: str) -> tuple[str, str]:
    """`HKEY_LOCAL_MACHINE\\SOFTWARE\\X` -> ("HKLM", "SOFTWARE\\X"); roots upper-cased."""
    root, _, rest = path.strip("\\").partition("\\")
    root = root.upper()
    return _ROOT_ALIASES.get(root, root), rest.strip("\\")


# Predefined handles and access rights as documented in winreg.h; winreg accepts the plain
# integers, which keeps them usable (and testable) without importing winreg.
_ROOT_HANDLES = {"HKCU": 0x80000001, "HKLM": 0x80000002, "HKU": 0x80000003}
_KEY_READ = 0x20019
_KEY_WOW64_64KEY = 0x0100
_KEY_WOW64_32KEY = 0x0200
_ERROR_ACCESS_DENIED = 5


class WinregApi(Protocol):
    """The part of the stdlib `winreg` module that `WinregRegistry` calls."""

    def OpenKey(  # noqa: N802 - winreg's own name
        self, key: int, sub_key: str, reserved: int, access: int, /
    ) -> AbstractContextManager[Any]: ...

    def QueryInfoKey(self, key: Any, /) -> tuple[int, int, int]: ...  # noqa: N802

    # (subkey count, value count, last write as 100-ns ticks since 1601-01-01 UTC)

    def EnumKey(self, key: Any, index: int, /) -> str: ...  # noqa: N802

    def EnumValue(self, key: Any, index: int, /) -> tuple[str, Any, int]: ...  # noqa: N802


class WinregRegistry:
    """The live registry through the stdlib `winreg` module (Windows only).

    `api` is for tests; by default the real `winreg` is imported, which exists only on Windows.
    """

    def __init__(self, api: WinregApi | None = None) -> None:
        self._api = api if api is not None else _system_winreg()

    def subkeys(self, path: str, bitness: Bitness = Bitness.BIT64) -> list[str]:
        with self._open(path, bitness) as handle:
            if handle is None:
                return []
            count, _, _ = self._api.QueryInfoKey(handle)
            return [self._api.EnumKey(handle, index) for index in range(count)]

    def values(self, path: str, bitness: Bitness = Bitness.BIT64) -> dict[str, RegValue]:
        with self._open(path, bitness) as handle:
            if handle is None:
                return {}
            _, count, _ = self._api.QueryInfoKey(handle)
            found: dict[str, RegValue] = {}
            for index in range(count):
                name, data, kind = self._api.EnumValue(handle, index)
                found[name] = RegValue(kind, _from_winreg(data))
            return found

    def last_written(self, path: str, bitness: Bitness = Bitness.BIT64) -> dt.datetime | None:
        with self._open(path, bitness) as handle:
            if handle is None:
                return None
            _, _, ticks = self._api.QueryInfoKey(handle)
            return filetime_to_datetime(ticks)

    def _open(self, path: str, bitness: Bitness) -> AbstractContextManager[Any]:
        root, rest = split_root(path)
        if root not in _ROOT_HANDLES:
            raise CollectorError(f"registry root not supported: {path}")
        access = _KEY_READ | (_KEY_WOW64_32KEY if bitness is Bitness.BIT32 else _KEY_WOW64_64KEY)
        try:
            return self._api.OpenKey(_ROOT_HANDLES[root], rest, 0, access)
        except FileNotFoundError:
            return nullcontext()  # a missing key reads as empty: the handle is None
        except PermissionError as exc:
            raise RegistryAccessDeniedError(f"{path}: access denied") from exc
        except OSError as exc:
            if getattr(exc, "winerror", None) == _ERROR_ACCESS_DENIED:
                raise RegistryAccessDeniedError(f"{path}: access denied") from exc
            raise CollectorError(f"{path}: {exc}") from exc


_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


def filetime_to_datetime(filetime: int) -> dt.datetime | None:
    """A FILETIME (100 ns ticks since 1601-01-01 UTC) as an aware datetime; 0 means unset."""
    if filetime <= 0:
        return None
    return _FILETIME_EPOCH + dt.timedelta(microseconds=filetime // 10)


def _system_winreg() -> WinregApi:
    if sys.platform == "win32":
        import winreg

        return winreg
    else:
        raise CollectorError("the Windows registry can only be read on Windows")


def _from_winreg(data: Any) -> RegData:
    """winreg gives lists for REG_MULTI_SZ and None for an empty REG_NONE: make them frozen."""
    if data is None:
        return b""
    if isinstance(data, list):
        return tuple(str(item) for item in data)
    if isinstance(data, (str, int, bytes)):
        return data
    return bytes(data)

"""Run one PowerShell pipeline that ends in `ConvertTo-Json`, and read its records.

Why PowerShell and JSON: CIM/WMI and the NetAdapter/PnpDevice cmdlets are the supported way
to ask Windows about disks, services, devices and adapters, and `ConvertTo-Json` gives a
format Python reads without scraping localised tables (a Chinese Windows prints 正在运行, but
its JSON still says "Running").

Quirks of Windows PowerShell 5.1 that the reader absorbs:
- `ConvertTo-Json` emits a single object, not a list, when the pipeline yields one item,
  and nothing at all when it yields none.
- stdout is in the console code page (CP936 on a Chinese Windows) unless the script sets
  `[Console]::OutputEncoding` to UTF-8 first, which the prefix below does; .NET may then
  write a BOM, which is dropped.
- Enums become numbers (AddressFamily 2/23), `&` and `'` become \\u0026 and \\u0027.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from agent.errors import CollectorError
from agent.platforms.base import CommandRunner

UTF8_PREFIX = "[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; "
POWERSHELL = ("powershell", "-NoProfile", "-NonInteractive", "-Command")
# CIM queries start a WMI provider on first use; cold starts of Get-PnpDevice take seconds.
TIMEOUT_SECONDS = 60.0


class JsonRecord:
    """One object of ConvertTo-Json output, with typed reads that never raise."""

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data

    def text(self, key: str) -> str:
        value = self._data.get(key)
        if value is None or isinstance(value, (dict, list)):
            return ""
        return str(value).strip()

    def integer(self, key: str, default: int = 0) -> int:
        value = self._data.get(key)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return default

    def flag(self, key: str) -> bool:
        value = self._data.get(key)
        return value is True or (isinstance(value, str) and value.lower() == "true")

    def texts(self, key: str) -> tuple[str, ...]:
        """A string array; a lone string counts as an array of one."""
        value = self._data.get(key)
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(str(item) for item in value if item is not None)
        return ()


def powershell_argv(script: str) -> tuple[str, ...]:
    return (*POWERSHELL, UTF8_PREFIX + script)


def run_json(run: CommandRunner, script: str) -> list[JsonRecord]:
    """The records `script` prints; a CommandError from `run` propagates unchanged."""
    output = run(powershell_argv(script), timeout=TIMEOUT_SECONDS).lstrip("\ufeff").strip()
    if not output:
        return []
    try:
        document = json.loads(output)
    except json.JSONDecodeError as exc:
        raise CollectorError(f"PowerShell printed no JSON for {script!r}: {exc}") from exc
    items = document if isinstance(document, list) else [document]
    if not all(isinstance(item, dict) for item in items):
        raise CollectorError(f"PowerShell printed JSON that is not objects for {script!r}")
    return [JsonRecord(item) for item in items]

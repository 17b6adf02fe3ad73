"""The Windows adapter: the registry (`winreg` or `reg export` files), PowerShell CIM queries
and, for services, psutil.

Public surface:
    WindowsAdapter(registry=None, run=None, *, service_records=None)
                                              the PlatformAdapter for Windows
    RegistryView, Bitness, RegValue           what the adapter reads the registry through
    WinregRegistry                            the live registry (Windows only)
    RegExportRegistry                         recorded `reg export` files, any OS
"""

from __future__ import annotations

from agent.platforms.windows.adapter import WindowsAdapter
from agent.platforms.windows.regfile import RegExportRegistry, parse_reg_export
from agent.platforms.windows.registry import (
    Bitness,
    RegistryAccessDeniedError,
    RegistryView,
    RegValue,
    WinregRegistry,
)

__all__ = [
    "Bitness",
    "RegExportRegistry",
    "RegValue",
    "RegistryAccessDeniedError",
    "RegistryView",
    "WindowsAdapter",
    "WinregRegistry",
    "parse_reg_export",
]

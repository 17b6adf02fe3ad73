"""One adapter per OS; `current_platform()` picks this machine's.

Adapters are imported lazily so that an agent on Linux never loads Windows code and vice versa.
"""

from __future__ import annotations

import sys

from agent.platforms.base import PlatformAdapter


def platform_name() -> str:
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def current_platform() -> PlatformAdapter:
    name = platform_name()
    if name == "windows":
        from agent.platforms.windows import WindowsAdapter

        return WindowsAdapter()
    if name == "macos":
        from agent.platforms.macos import MacOSAdapter

        return MacOSAdapter()
    from agent.platforms.linux import LinuxAdapter

    return LinuxAdapter()

"""Whether a host runs an operating system the agent supports, from what its reports say.

The agent bundles Python 3.12 on Windows, which needs Windows 8.1 or newer, and is supported
on Windows 10 and 11 (docs/platform-support.md); Windows 7 (NT 6.1), 8 (6.2) and 8.1 (6.3)
are out of support. A host that still reports one (an agent installed before, a machine whose
report was forwarded) is shown as such on the dashboard, so that a unit does not read its
results as those of a supported check.
"""

from __future__ import annotations

import re

_NT_VERSION = re.compile(r"^(\d+)\.(\d+)")
FIRST_SUPPORTED_WINDOWS = (10, 0)


def is_unsupported_os(platform: str, os_name: str, os_version: str) -> bool:
    """True for Windows before 10 (by its NT version, else by its name); False when unknown."""
    if platform != "windows":
        return False
    match = _NT_VERSION.match(os_version.strip())
    if match is not None:
        return (int(match[1]), int(match[2])) < FIRST_SUPPORTED_WINDOWS
    return bool(re.match(r"Windows (XP|Vista|7|8)\b", os_name.strip()))

"""Installed programs as "Programs and Features" (appwiz.cpl) lists them.

Why the Uninstall keys and not Win32_Product: Win32_Product lists MSI packages only and makes
Windows Installer re-check (and sometimes repair) every one of them. The Uninstall keys are
what the Control Panel shows, for every kind of installer, and reading them changes nothing.

Three places hold them: the 64-bit and the 32-bit (WOW6432Node) view of HKLM, and each
user's own hive for per-user installs (WPS Office, Feishu and many tools install there).
The agent runs as LocalSystem, whose HKCU is the system profile, so the hives of logged-on
users are read too under HKEY_USERS\\<SID>; all of them report as `registry:HKCU`.
The Control Panel hides an entry without DisplayName, one marked SystemComponent=1 (parts of a
bundle, e.g. the Visual C++ minimum runtimes) and one with ParentKeyName (an update of another
entry, e.g. Office security updates); so does this.
"""

from __future__ import annotations

import re

from agent.facts import Software
from agent.platforms.windows.registry import Bitness, RegistryView, int_value, text_value

UNINSTALL = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"
_ISO_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Interactive users' hives are loaded under HKU as S-1-5-21-<domain>-<rid>; *_Classes are
# their file associations, and S-1-5-18/19/20 are the system's own accounts.
_USER_SID = re.compile(r"^S-1-5-21-[\d-]+$", re.IGNORECASE)


def installed_software(registry: RegistryView) -> tuple[Software, ...]:
    found: list[Software] = []
    found += _read_hive(registry, f"HKLM\\{UNINSTALL}", Bitness.BIT64, "registry:HKLM64")
    found += _read_hive(registry, f"HKLM\\{UNINSTALL}", Bitness.BIT32, "registry:HKLM32")
    user_hives = ["HKCU"] + [
        f"HKU\\{sid}" for sid in registry.subkeys("HKU") if _USER_SID.match(sid)
    ]
    for hive in user_hives:
        for program in _read_hive(registry, f"{hive}\\{UNINSTALL}", Bitness.BIT64, "registry:HKCU"):
            # HKCU is also one of the HKU hives when the agent runs as that user.
            if program not in found:
                found.append(program)
    return tuple(found)


def _read_hive(registry: RegistryView, path: str, bitness: Bitness, source: str) -> list[Software]:
    programs = []
    for entry in registry.subkeys(path, bitness):
        values = registry.values(f"{path}\\{entry}", bitness)
        name = text_value(values, "DisplayName").strip()
        if not name or int_value(values, "SystemComponent") == 1:
            continue
        if text_value(values, "ParentKeyName").strip():
            continue
        programs.append(
            Software(
                name=name,
                version=text_value(values, "DisplayVersion").strip(),
                publisher=text_value(values, "Publisher").strip(),
                install_date=iso_install_date(text_value(values, "InstallDate")),
                source=source,
            )
        )
    return programs


def iso_install_date(value: str) -> str:
    """Installers write YYYYMMDD (MSI always does); other forms are kept as written."""
    text = value.strip()
    match = _ISO_DATE.match(text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else text

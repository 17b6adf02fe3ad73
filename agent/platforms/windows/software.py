"""Installed programs as "Programs and Features" (appwiz.cpl) lists them.

Why the Uninstall keys and not Win32_Product: Win32_Product lists MSI packages only and makes
Windows Installer re-check (and sometimes repair) every one of them. The Uninstall keys are
what the Control Panel shows, for every kind of installer, and reading them changes nothing.

Where they are:
- the 64-bit and the 32-bit (WOW6432Node) view of HKLM. 32-bit Windows has one view only
  (KEY_WOW64_32KEY is ignored there), which shows as HKLM\\SOFTWARE without a WOW6432Node
  key: then the machine-wide entries are read once, as "registry:HKLM32" would duplicate them;
- each user's own hive, for per-user installs (WPS Office, Feishu and many tools install
  there). The agent runs as LocalSystem, whose HKCU is the system profile, so it reads every
  profile in ProfileList: local and domain accounts (S-1-5-21-…) and Entra ID accounts
  (S-1-12-1-…). A logged-on user's hive is loaded under HKEY_USERS\\<SID>; a user who is not
  logged on has it in the file `<ProfileImagePath>\\NTUSER.DAT`, read with a hive parser
  (`user_hives`), so their programs do not vanish from the inventory while they are away.
  Every per-user entry reports as `registry:HKCU` and names its owner: two users' copies of
  one program are two entries.

The Control Panel hides an entry without DisplayName, one marked SystemComponent=1 (parts of a
bundle, e.g. the Visual C++ minimum runtimes) and one with ParentKeyName (an update of another
entry, e.g. Office security updates); so does this. Where an entry has no InstallDate (most
per-user installers write none), the Control Panel shows the day its key was last written;
so does this.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import PureWindowsPath

from agent.errors import CollectorError
from agent.facts import Software
from agent.platforms.windows.registry import (
    Bitness,
    RegistryView,
    int_value,
    text_value,
)

log = logging.getLogger(__name__)

UNINSTALL = r"Software\Microsoft\Windows\CurrentVersion\Uninstall"
PROFILE_LIST = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList"
_ISO_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Interactive users: local and AD accounts (S-1-5-21-<domain>-<rid>) and Entra ID accounts
# (S-1-12-1-…). S-1-5-18/19/20 are the system's own accounts; *_Classes are file associations.
_USER_SID = re.compile(r"^S-1-(5-21|12-1)(-\d+)+$", re.IGNORECASE)

# Opens the hive file of a profile that is not loaded, as a view rooted at HKU\<sid>.
UserHiveOpener = Callable[[str, PureWindowsPath], RegistryView]


def installed_software(
    registry: RegistryView, user_hives: UserHiveOpener | None = None
) -> tuple[Software, ...]:
    found: list[Software] = []
    found += _read_hive(registry, f"HKLM\\{UNINSTALL}", Bitness.BIT64, "registry:HKLM64")
    if has_two_views(registry):
        found += _read_hive(registry, f"HKLM\\{UNINSTALL}", Bitness.BIT32, "registry:HKLM32")
    for sid, view, owner in _user_hives(registry, user_hives):
        for program in _read_hive(
            view, f"HKU\\{sid}\\{UNINSTALL}", Bitness.BIT64, "registry:HKCU", owner
        ):
            if program not in found:  # a hive listed twice in ProfileList
                found.append(program)
    return tuple(found)


def has_two_views(registry: RegistryView) -> bool:
    """64-bit Windows: HKLM\\SOFTWARE holds WOW6432Node, the 32-bit programs' view."""
    return any(key.casefold() == "wow6432node" for key in registry.subkeys("HKLM\\SOFTWARE"))


def _user_hives(
    registry: RegistryView, user_hives: UserHiveOpener | None
) -> list[tuple[str, RegistryView, str]]:
    """(sid, view holding HKU\\<sid>, owner) for every user profile whose hive can be read."""
    loaded = {sid.casefold() for sid in registry.subkeys("HKU")}
    profiles = [sid for sid in registry.subkeys(PROFILE_LIST) if _USER_SID.match(sid)]
    listed = {sid.casefold() for sid in profiles}
    # A hive loaded under HKU without a ProfileList entry (a roaming or temporary profile).
    profiles += [
        sid
        for sid in registry.subkeys("HKU")
        if _USER_SID.match(sid) and sid.casefold() not in listed
    ]
    found: list[tuple[str, RegistryView, str]] = []
    for sid in profiles:
        image = text_value(registry.values(f"{PROFILE_LIST}\\{sid}"), "ProfileImagePath")
        home = PureWindowsPath(image.strip()) if image.strip() else None
        owner = home.name if home is not None and home.name else sid
        if sid.casefold() in loaded:
            found.append((sid, registry, owner))
            continue
        if home is None or user_hives is None:
            log.warning("profile %s is not loaded and its hive file is unknown: skipped", sid)
            continue
        try:
            found.append((sid, user_hives(sid, home / "NTUSER.DAT"), owner))
        except CollectorError as exc:
            log.warning("profile %s (%s): its hive cannot be read: %s", sid, owner, exc)
    return found


def _read_hive(
    registry: RegistryView, path: str, bitness: Bitness, source: str, owner: str = ""
) -> list[Software]:
    programs = []
    for entry in registry.subkeys(path, bitness):
        key = f"{path}\\{entry}"
        values = registry.values(key, bitness)
        name = text_value(values, "DisplayName").strip()
        if not name or int_value(values, "SystemComponent") == 1:
            continue
        if text_value(values, "ParentKeyName").strip():
            continue
        install_date = iso_install_date(text_value(values, "InstallDate"))
        if not install_date:
            written = registry.last_written(key, bitness)
            install_date = written.date().isoformat() if written is not None else ""
        programs.append(
            Software(
                name=name,
                version=text_value(values, "DisplayVersion").strip(),
                publisher=text_value(values, "Publisher").strip(),
                install_date=install_date,
                source=source,
                owner=owner,
            )
        )
    return programs


def iso_install_date(value: str) -> str:
    """Installers write YYYYMMDD (MSI always does); other forms are kept as written."""
    text = value.strip()
    match = _ISO_DATE.match(text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else text

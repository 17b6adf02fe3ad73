"""Who may read the agent's state on Windows: SYSTEM and Administrators, nobody else.

The state directory (`%ProgramData%\\Custos\\state`) holds the agent's private key; a user who
can read it can sign reports as this PC. The installer gives the directory a protected DACL
(`STATE_DIR_SDDL`: full control for SYSTEM and Administrators, inherited by everything in it,
nothing inherited from ProgramData, whose default lets Users read). At start the service
checks the key file's effective DACL and refuses to run when anyone else may read it.

Security descriptors are read and written as SDDL, the documented text form
(`D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)`), so the check is a plain function of a string that
the Linux tests feed recorded descriptors; only `file_sddl`/`protect` call Windows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

STATE_DIR_SDDL = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
TRUSTED = frozenset({"SY", "S-1-5-18", "BA", "S-1-5-32-544"})
# Rights that let a trustee read a file's content (winnt.h; SDDL rights strings: FA file all,
# FR file read, GA/GR generic all/read, and CC, which for a file is bit 0x1, FILE_READ_DATA).
FILE_READ_DATA = 0x0001
GENERIC_READ = 0x80000000
GENERIC_ALL = 0x10000000
_READING_RIGHTS = {"FA", "FR", "GA", "GR", "CC"}
_ACE = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Ace:
    kind: str  # "A" allow, "D" deny, ...
    flags: str  # "OICI" inherited by children, "ID" inherited, "IO" inherit only, ...
    rights: str  # "FA", "0x1200a9", "GRGX" ...
    trustee: str  # "SY", "BU", "S-1-5-21-…"

    @property
    def applies_here(self) -> bool:
        """An inherit-only ACE is for the children, not for the object that holds it."""
        return "IO" not in {self.flags[i : i + 2] for i in range(0, len(self.flags), 2)}


def dacl_aces(sddl: str) -> tuple[Ace, ...] | None:
    """The ACEs of the D: part; None for a missing or NULL DACL (everyone has every right)."""
    match = re.search(r"D:([A-Z]*)((?:\([^()]*\))*)", sddl)
    if match is None or "NO_ACCESS_CONTROL" in sddl:
        return None
    aces = []
    for body in _ACE.findall(match.group(2)):
        fields = body.split(";")
        if len(fields) < 6:
            continue
        aces.append(Ace(fields[0], fields[1], fields[2], fields[5]))
    return tuple(aces)


def grants_read(rights: str) -> bool:
    if rights.lower().startswith("0x"):
        mask = int(rights, 16)
        return bool(mask & (FILE_READ_DATA | GENERIC_READ | GENERIC_ALL))
    codes = {rights[index : index + 2] for index in range(0, len(rights), 2)}
    return bool(codes & _READING_RIGHTS)


def untrusted_readers(sddl: str) -> list[str]:
    """Trustees other than SYSTEM and Administrators that an allow ACE lets read the file;
    ["Everyone (no DACL)"] when there is no DACL at all."""
    aces = dacl_aces(sddl)
    if aces is None:
        return ["Everyone (no DACL)"]
    return sorted(
        {
            ace.trustee
            for ace in aces
            if ace.kind in ("A", "OA")
            and ace.applies_here
            and ace.trustee not in TRUSTED
            and grants_read(ace.rights)
        }
    )


def file_sddl(path: Path) -> str:
    """The DACL of `path` as SDDL. Windows only."""
    import win32security

    descriptor = win32security.GetNamedSecurityInfo(
        str(path), win32security.SE_FILE_OBJECT, win32security.DACL_SECURITY_INFORMATION
    )
    text: str = win32security.ConvertSecurityDescriptorToStringSecurityDescriptor(
        descriptor, win32security.SDDL_REVISION_1, win32security.DACL_SECURITY_INFORMATION
    )
    return text


def protect(path: Path) -> None:
    """Give `path` the state directory's protected DACL (and so everything below it).
    Windows only."""
    import win32security

    descriptor = win32security.ConvertStringSecurityDescriptorToSecurityDescriptor(
        STATE_DIR_SDDL, win32security.SDDL_REVISION_1
    )
    win32security.SetNamedSecurityInfo(
        str(path),
        win32security.SE_FILE_OBJECT,
        win32security.DACL_SECURITY_INFORMATION | win32security.PROTECTED_DACL_SECURITY_INFORMATION,
        None,
        None,
        descriptor.GetSecurityDescriptorDacl(),
        None,
    )

"""Who this Windows machine is: OS release, MachineGuid, the serials of its own disks.

The OS comes from the registry rather than `platform.win32_ver()` because the registry also
holds the display version (23H2) and the update build revision (UBR) that patch-level checks
need. Windows 11 still writes "Windows 10 ..." into ProductName; Microsoft's own guidance is to
tell them apart by build number (Windows 11 starts at build 22000).
"""

from __future__ import annotations

from agent.errors import CollectorError
from agent.platforms.base import CommandRunner, OsRelease
from agent.platforms.windows.powershell import JsonRecord, run_json
from agent.platforms.windows.registry import Bitness, RegistryView, int_value, text_value

CURRENT_VERSION = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
CRYPTOGRAPHY = r"HKLM\SOFTWARE\Microsoft\Cryptography"
TCPIP_PARAMETERS = r"HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters"
FIRST_WINDOWS_11_BUILD = 22000

DISK_DRIVES = (
    "Get-CimInstance Win32_DiskDrive | Select-Object "
    "Model,SerialNumber,InterfaceType,PNPDeviceID,Size,MediaType,Index | ConvertTo-Json"
)


def os_release(registry: RegistryView) -> OsRelease:
    values = registry.values(CURRENT_VERSION)
    product = text_value(values, "ProductName").strip()
    if not product:
        raise CollectorError(f"{CURRENT_VERSION} has no ProductName")
    build = text_value(values, "CurrentBuild") or text_value(values, "CurrentBuildNumber")
    if (
        build.isdigit()
        and int(build) >= FIRST_WINDOWS_11_BUILD
        and product.startswith("Windows 10")
    ):
        product = "Windows 11" + product.removeprefix("Windows 10")
    # DisplayVersion (20H2 and later) replaced ReleaseId, which stayed frozen at "2009".
    feature = text_value(values, "DisplayVersion") or text_value(values, "ReleaseId")
    major = int_value(values, "CurrentMajorVersionNumber")
    minor = int_value(values, "CurrentMinorVersionNumber")
    # Before Windows 10, CurrentVersion ("6.3") was the only version number.
    base = f"{major}.{minor or 0}" if major is not None else text_value(values, "CurrentVersion")
    kernel = f"{base}.{build}"
    ubr = int_value(values, "UBR")
    return OsRelease(
        name=f"{product} {feature}".strip(),
        version=f"{kernel}.{ubr}" if ubr is not None else kernel,
        kernel=kernel,
    )


def machine_id(registry: RegistryView) -> str:
    """MachineGuid, set at installation; only the 64-bit view has it on 64-bit Windows."""
    guid = text_value(registry.values(CRYPTOGRAPHY, Bitness.BIT64), "MachineGuid").strip()
    if not guid:
        raise CollectorError(f"{CRYPTOGRAPHY} has no MachineGuid")
    return guid.lower()


def fqdn(registry: RegistryView, hostname: str) -> str:
    """Host name plus the primary DNS suffix, as `ipconfig /all` shows it; no DNS query.

    "Domain" is the suffix in effect (set by joining an AD domain), "NV Domain" the one
    configured for the next boot.
    """
    if "." in hostname:
        return hostname
    values = registry.values(TCPIP_PARAMETERS)
    suffix = (text_value(values, "Domain") or text_value(values, "NV Domain")).strip(". ")
    return f"{hostname}.{suffix}" if suffix else hostname


def is_external(disk: JsonRecord) -> bool:
    """A disk that can leave the machine: on the USB bus, or a medium Windows calls
    removable/external (a UAS disk reports InterfaceType SCSI but "External hard disk media")."""
    return (
        disk.text("InterfaceType").upper() == "USB"
        or disk.text("PNPDeviceID").upper().startswith("USBSTOR\\")
        or disk.text("MediaType") in ("Removable Media", "External hard disk media")
    )


def disk_drives(run: CommandRunner) -> list[JsonRecord]:
    return sorted(run_json(run, DISK_DRIVES), key=lambda disk: disk.integer("Index"))


def disk_serials(run: CommandRunner) -> tuple[str, ...]:
    """Serials of the machine's own disks (what registration sheets record), not of sticks."""
    serials = (disk.text("SerialNumber") for disk in disk_drives(run) if not is_external(disk))
    return tuple(serial for serial in serials if serial)

"""Who this Mac is: hardware UUID, macOS release and the serials of its internal disks.

The hardware UUID (`IOPlatformUUID`) is what Apple's own management tools key a Mac by: it
survives a reinstall, unlike anything on the disk. Disk serials come from the NVMe and SATA
reports; USB disks are not listed there, so they never pass for the machine's own disk.
"""

from __future__ import annotations

import re

from agent.errors import CollectorError
from agent.platforms.base import OsRelease
from agent.platforms.macos import system_profiler

IOREG_PLATFORM_ARGV = ("/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice")
SW_VERS_ARGV = ("/usr/bin/sw_vers",)
UNAME_RELEASE_ARGV = ("/usr/bin/uname", "-r")
SCUTIL_HOSTNAME_ARGV = ("/usr/sbin/scutil", "--get", "HostName")
DISKS_ARGV = (
    system_profiler.SYSTEM_PROFILER,
    "SPNVMeDataType",
    "SPSerialATADataType",
    "-json",
)
_DISK_DATA_TYPES = ("SPNVMeDataType", "SPSerialATADataType")

# `    "IOPlatformUUID" = "564DA1B2-..."` in ioreg's text form of a property.
_IOREG_STRING_PROPERTY = re.compile(r'^\s*"(?P<key>[^"]+)" = "(?P<value>[^"]*)"\s*$')


def parse_platform_uuid(ioreg_output: str) -> str:
    for line in ioreg_output.splitlines():
        match = _IOREG_STRING_PROPERTY.match(line)
        if match and match["key"] == "IOPlatformUUID" and match["value"].strip():
            return match["value"].strip()
    raise CollectorError("ioreg: no IOPlatformUUID on IOPlatformExpertDevice")


def choose_fqdn(hostname: str, configured_host_name: str | None) -> str:
    """The configured `HostName` when it is dotted, else the host name as given.

    `scutil --get HostName` is what an administrator (or an MDM profile) set as the machine's
    fully qualified name; it is unset on most Macs, which then answer to their Bonjour name.
    """
    if "." in hostname:
        return hostname
    configured = (configured_host_name or "").strip()
    return configured if "." in configured else hostname


def parse_os_release(sw_vers_output: str, kernel_release: str) -> OsRelease:
    """`ProductName:\\t\\tmacOS` lines; a Rapid Security Response adds ProductVersionExtra."""
    fields: dict[str, str] = {}
    for line in sw_vers_output.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    version = fields.get("ProductVersion", "")
    if not version:
        raise CollectorError("sw_vers: no ProductVersion")
    extra = fields.get("ProductVersionExtra", "")
    return OsRelease(
        name=fields.get("ProductName", "macOS") or "macOS",
        version=f"{version} {extra}" if extra else version,
        kernel=kernel_release.strip(),
    )


def parse_disk_serials(report: str) -> tuple[str, ...]:
    """Serials of built-in NVMe and SATA drives, in report order, without duplicates.

    Drives marked `detachable_drive: yes` (Thunderbolt enclosures) are left out: the check
    sheet's disk serial identifies the machine, not what is plugged into it.
    """
    serials: list[str] = []
    for data_type in _DISK_DATA_TYPES:
        for item in system_profiler.walk(system_profiler.report_items(report, data_type) or []):
            serial = system_profiler.text(item, "device_serial")
            detachable = system_profiler.text(item, "detachable_drive").lower() == "yes"
            if serial and not detachable and serial not in serials:
                serials.append(serial)
    return tuple(serials)

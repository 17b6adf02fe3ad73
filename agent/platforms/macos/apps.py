"""Installed software on macOS: the application bundles in the places people install them.

Most Mac software is a drag-installed `.app` bundle, which no package database records, so the
bundles are the inventory: `/Applications/*.app`, one level of folders below it (vendors'
folders such as `/Applications/Cisco/`, and `Utilities`), and the same two levels of
`~/Applications` for every home folder in `/Users`.

`/System/Applications` is left out on purpose: it is the sealed, read-only system volume that
ships with macOS itself (Mail, Calculator, ...); the check sheet asks what was installed on top
of the OS, and the OS version already identifies those.

A bundle whose Info.plist cannot be read is logged with its path and skipped, so one damaged
application never hides the rest of the list.
"""

from __future__ import annotations

import logging
import plistlib
import re
import xml.parsers.expat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agent.facts import Software

log = logging.getLogger(__name__)

# "Copyright © 2011-2024 Tencent. All rights reserved." -> "Tencent"
_COPYRIGHT_NOISE = re.compile(
    r"(copyright|\(c\)|©|\d{4}(\s*[-–]\s*\d{4})?|all rights reserved\.?)", re.IGNORECASE
)


def _bundles_in(folder: Path) -> Iterator[Path]:
    """`folder/*.app` and `folder/*/*.app`, sorted; other folders are not searched deeper."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.suffix == ".app" and entry.is_dir():
            yield entry
        elif entry.is_dir():
            try:
                nested = sorted(entry.iterdir())
            except OSError:
                continue
            yield from (inner for inner in nested if inner.suffix == ".app" and inner.is_dir())


def application_bundles(root: Path) -> Iterator[Path]:
    yield from _bundles_in(root / "Applications")
    try:
        homes = sorted((root / "Users").iterdir())
    except OSError:
        return
    for home in homes:
        if not home.name.startswith("."):
            yield from _bundles_in(home / "Applications")


def _string(info: Mapping[str, Any], key: str) -> str:
    value = info.get(key)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def publisher_from_bundle_id(bundle_id: str) -> str:
    """The owner in reverse-DNS order: com.tencent.xinWeChat -> "tencent"."""
    parts = [part for part in bundle_id.split(".") if part]
    return parts[1].lower() if len(parts) >= 2 else ""


def publisher_from_copyright(notice: str) -> str:
    cleaned = _COPYRIGHT_NOISE.sub(" ", notice)
    return " ".join(cleaned.replace(",", " ").split()).strip(" .")


def software_from_info(bundle: Path, info: Mapping[str, Any]) -> Software:
    name = _string(info, "CFBundleDisplayName") or _string(info, "CFBundleName") or bundle.stem
    version = _string(info, "CFBundleShortVersionString") or _string(info, "CFBundleVersion")
    publisher = publisher_from_bundle_id(_string(info, "CFBundleIdentifier"))
    if not publisher:
        publisher = publisher_from_copyright(_string(info, "NSHumanReadableCopyright"))
    return Software(name=name, version=version, publisher=publisher, source="app")


def read_info_plist(bundle: Path) -> Mapping[str, Any] | None:
    """The bundle's Info.plist (XML or binary, plistlib reads both), or None when unusable."""
    path = bundle / "Contents" / "Info.plist"
    try:
        with path.open("rb") as handle:
            info = plistlib.load(handle)
    # Truncated XML surfaces as expat's own error: plistlib does not wrap it.
    except (
        OSError,
        plistlib.InvalidFileException,
        xml.parsers.expat.ExpatError,
        ValueError,
        OverflowError,
    ) as exc:
        log.warning("skipping application %s: Info.plist unreadable (%s)", bundle, exc)
        return None
    if not isinstance(info, dict):
        log.warning("skipping application %s: Info.plist is not a dictionary", bundle)
        return None
    return info


def installed_applications(root: Path) -> tuple[Software, ...]:
    found: list[Software] = []
    for bundle in application_bundles(root):
        info = read_info_plist(bundle)
        if info is not None:
            found.append(software_from_info(bundle, info))
    return tuple(found)

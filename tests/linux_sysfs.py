"""Materialise a recorded Linux device tree (sysfs, mounts, udev database) into a directory.

The fixture format, shared with `tests/fixtures/linux/record_usb.py`, is one JSON document:

    {"files": {"devices/.../1-1/idVendor": "0781\\n", ...},   # relative to /sys
     "links": {"block/sdb": "../devices/.../block/sdb", ...},  # relative targets, as in sysfs
     "proc_mounts": "<the text of /proc/self/mounts>",
     "udev": {"b8:17": "<the text of /run/udev/data/b8:17>", ...}}

Links keep their relative targets so that resolving `<root>/sys/block/sdb` walks the same
path shape as on the real machine; targets outside the recorded subtrees (driver
directories) stay dangling, as only their names are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "linux" / "usb"


@dataclass(frozen=True)
class MachineRoots:
    sys: Path
    proc: Path
    udev: Path


def load_fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def materialise(document: dict[str, Any], root: Path) -> MachineRoots:
    """Write the tree under root/sys, root/proc and root/run/udev and return those roots."""
    roots = MachineRoots(sys=root / "sys", proc=root / "proc", udev=root / "run" / "udev")
    for relative, content in document.get("files", {}).items():
        target = _inside(roots.sys, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    for relative, link_target in document.get("links", {}).items():
        link = _inside(roots.sys, relative)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link_target)
    mounts = roots.proc / "self" / "mounts"
    mounts.parent.mkdir(parents=True, exist_ok=True)
    mounts.write_text(document.get("proc_mounts", ""), encoding="utf-8")
    data_dir = roots.udev / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, content in document.get("udev", {}).items():
        _inside(data_dir, name).write_text(content, encoding="utf-8")
    return roots


def materialise_fixture(name: str, root: Path) -> MachineRoots:
    return materialise(load_fixture(name), root)


def _inside(base: Path, relative: str) -> Path:
    """Refuse paths that would escape the tree (a fixture is data, not a script)."""
    target = base / relative
    if relative.startswith("/") or ".." in Path(relative).parts:
        raise ValueError(f"fixture path escapes its root: {relative!r}")
    return target

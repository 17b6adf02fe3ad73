"""USB devices and removable storage attached now, read from Linux sysfs.

Why sysfs and not `lsusb`/`lsblk`: sysfs is what those tools read, it is there on every
Debian-based desktop (UOS, Kylin) without extra packages, and a test can replay a recorded
tree by pointing `sys_root` at a directory.

Where the facts come from:
- USB devices: `<sys>/bus/usb/devices/<bus path>` holds idVendor, idProduct, serial,
  manufacturer and product; each interface `<bus path>:<config>.<interface>` holds its class
  triple, an optional `interface` name string (Android phones name theirs "MTP") and a
  `driver` symlink.
- Storage: `<sys>/block/<disk>` is a symlink into the device tree, so resolving it shows which
  bus the disk hangs off. A disk counts when that path passes through a USB device (USB hard
  disks report removable=0, so the flag alone would miss them), when it is an SD card (the mmc
  block driver never sets removable, on purpose: see drivers/mmc/core/block.c), or when the
  kernel marks it removable (optical drives, odd readers).
- Mount points come from `<proc>/self/mounts`; file system labels and types from the udev
  database, which is where blkid's results end up (`/run/udev/data/b<major>:<minor>`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent.facts import StorageDevice, UsbDevice
from agent.platforms.usb_classes import classify_usb, normalise_hex_id

# Block devices that are never hardware: images, RAM disks, device-mapper and RAID volumes.
_VIRTUAL_BLOCK_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "nbd")
_SECTOR_BYTES = 512  # sysfs `size` counts 512-byte sectors whatever the device's block size
_MMC_CARD_NAME = re.compile(r"mmc\d+:[0-9a-f]{4}")
_DIGITS = re.compile(r"([0-9]+)")
_MOUNT_ESCAPE = re.compile(rb"\\([0-7]{3})")
_UDEV_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def read_usb_devices(sys_root: Path = Path("/sys")) -> tuple[UsbDevice, ...]:
    """Every USB device on every bus except the controllers' own root hubs."""
    devices_dir = sys_root / "bus" / "usb" / "devices"
    if not devices_dir.is_dir():
        return ()
    device_dirs = [entry for entry in devices_dir.iterdir() if _is_usb_device(entry)]
    return tuple(_read_usb_device(entry) for entry in sorted(device_dirs, key=_bus_path_key))


def read_removable_storage(
    sys_root: Path = Path("/sys"),
    proc_root: Path = Path("/proc"),
    udev_root: Path = Path("/run/udev"),
) -> tuple[StorageDevice, ...]:
    """Disks on a USB bus, SD cards and kernel-marked removable disks that hold a medium."""
    block_dir = sys_root / "block"
    if not block_dir.is_dir():
        return ()
    mounts = _read_mounts(proc_root)
    found: list[StorageDevice] = []
    for entry in sorted(block_dir.iterdir(), key=lambda path: _natural_key(path.name)):
        if entry.name.startswith(_VIRTUAL_BLOCK_PREFIXES):
            continue
        storage = _read_storage(entry, sys_root, mounts, udev_root)
        if storage is not None:
            found.append(storage)
    return tuple(found)


# --- USB devices ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interface:
    triple: str  # "08/06/50"
    name: str
    driver: str


def _is_usb_device(entry: Path) -> bool:
    """Devices only: interfaces have a ':' in their name, root hubs are named usbN."""
    name = entry.name
    return ":" not in name and not name.startswith("usb") and (entry / "idVendor").is_file()


def _read_usb_device(device_dir: Path) -> UsbDevice:
    interfaces = _read_interfaces(device_dir)
    triples = tuple(interface.triple for interface in interfaces)
    drivers = _unique(interface.driver for interface in interfaces if interface.driver)
    return UsbDevice(
        bus_path=device_dir.name,
        vendor_id=normalise_hex_id(_read_attribute(device_dir / "idVendor")),
        product_id=normalise_hex_id(_read_attribute(device_dir / "idProduct")),
        serial=_read_attribute(device_dir / "serial"),
        manufacturer=_read_attribute(device_dir / "manufacturer"),
        product=_read_attribute(device_dir / "product"),
        usb_class=classify_usb(
            triples,
            interface_names=[interface.name for interface in interfaces if interface.name],
            drivers=drivers,
        ),
        interface_classes=triples,
        driver=",".join(drivers),
    )


def _read_interfaces(device_dir: Path) -> list[_Interface]:
    """The active configuration's interfaces, in interface-number order."""
    prefix = device_dir.name + ":"
    interface_dirs = [
        child for child in device_dir.iterdir() if child.name.startswith(prefix) and child.is_dir()
    ]
    interfaces = []
    for interface_dir in sorted(interface_dirs, key=lambda path: _natural_key(path.name)):
        triple = "/".join(
            _read_attribute(interface_dir / name).lower()
            for name in ("bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol")
        )
        interfaces.append(
            _Interface(
                triple=triple,
                name=_read_attribute(interface_dir / "interface"),
                driver=_link_name(interface_dir / "driver"),
            )
        )
    return interfaces


# --- storage ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Origin:
    """Which bus a disk hangs off, and the identity the bus gives it."""

    bus: str
    bus_path: str = ""
    vendor_id: str = ""
    product_id: str = ""
    serial: str = ""
    vendor: str = ""
    model: str = ""


def _read_storage(
    entry: Path, sys_root: Path, mounts: dict[str, list[str]], udev_root: Path
) -> StorageDevice | None:
    try:
        disk_dir = entry.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    devices_root = (sys_root / "devices").resolve()
    if (devices_root / "virtual") in disk_dir.parents:
        return None
    removable = _read_attribute(disk_dir / "removable") == "1"
    origin = _find_origin(disk_dir, devices_root)
    if origin is None:
        if not removable:
            return None
        origin = _Origin(bus=_bus_from_path(disk_dir))
    size_bytes = _read_int(disk_dir / "size") * _SECTOR_BYTES
    if size_bytes == 0:
        # No medium: an empty card-reader slot or optical drive. The reader itself still
        # shows up among the USB devices, so nothing is hidden by leaving it out here.
        return None
    volumes = [disk_dir, *_partitions(disk_dir)]
    volume_mounts: list[str] = []
    labels: list[str] = []
    filesystems: list[str] = []
    for volume in volumes:
        volume_mounts.extend(mounts.get(f"/dev/{volume.name}", ()))
        properties = _read_udev_properties(udev_root, _read_attribute(volume / "dev"))
        label = _filesystem_label(properties)
        if label:
            labels.append(label)
        if properties.get("ID_FS_TYPE"):
            filesystems.append(properties["ID_FS_TYPE"])
    scsi_vendor = _read_attribute(disk_dir / "device" / "vendor")
    scsi_model = _read_attribute(disk_dir / "device" / "model")
    return StorageDevice(
        device=f"/dev/{disk_dir.name}",
        vendor_id=origin.vendor_id,
        product_id=origin.product_id,
        serial=origin.serial,
        vendor=scsi_vendor or origin.vendor,
        model=scsi_model or origin.model,
        size_bytes=size_bytes,
        removable=removable,
        bus=origin.bus,
        mounts=tuple(_unique(volume_mounts)),
        labels=tuple(labels),
        filesystems=tuple(filesystems),
        bus_path=origin.bus_path,
    )


def _find_origin(disk_dir: Path, devices_root: Path) -> _Origin | None:
    """The USB device or SD card above a disk; None for anything else (SATA, NVMe, eMMC)."""
    for ancestor in disk_dir.parents:
        if ancestor == devices_root or devices_root not in ancestor.parents:
            return None
        if (ancestor / "idVendor").is_file():
            return _Origin(
                bus="usb",
                bus_path=ancestor.name,
                vendor_id=normalise_hex_id(_read_attribute(ancestor / "idVendor")),
                product_id=normalise_hex_id(_read_attribute(ancestor / "idProduct")),
                serial=_read_attribute(ancestor / "serial"),
                vendor=_read_attribute(ancestor / "manufacturer"),
                model=_read_attribute(ancestor / "product"),
            )
        if _MMC_CARD_NAME.fullmatch(ancestor.name) and ancestor.parent.parent.name == "mmc_host":
            # "SD" cards come and go; "MMC" is eMMC soldered to the board: the system disk.
            if _read_attribute(ancestor / "type") != "SD":
                return None
            return _Origin(
                bus="mmc",
                bus_path=ancestor.name,
                serial=_read_attribute(ancestor / "serial"),
                vendor=_read_attribute(ancestor / "manfid"),
                model=_read_attribute(ancestor / "name"),
            )
    return None


def _bus_from_path(disk_dir: Path) -> str:
    """A best-effort bus name for kernel-marked removable disks that are neither USB nor SD."""
    parts = disk_dir.parts
    if any(re.fullmatch(r"ata\d+", part) for part in parts):
        return "ata"
    if "nvme" in parts:
        return "nvme"
    if any(re.fullmatch(r"virtio\d+", part) for part in parts):
        return "virtio"
    if any(re.fullmatch(r"host\d+", part) for part in parts):
        return "scsi"
    return "other"


def _partitions(disk_dir: Path) -> list[Path]:
    children = [child for child in disk_dir.iterdir() if (child / "partition").is_file()]
    return sorted(children, key=lambda path: _natural_key(path.name))


def _read_mounts(proc_root: Path) -> dict[str, list[str]]:
    """Mount points by device path; the kernel escapes space, tab, newline and backslash."""
    for candidate in (proc_root / "self" / "mounts", proc_root / "mounts"):
        try:
            content = candidate.read_bytes()
        except OSError:
            continue
        mounts: dict[str, list[str]] = {}
        for line in content.splitlines():
            fields = line.split()
            if len(fields) < 2:
                continue
            device, mount_point = (_decode_mount_field(field) for field in fields[:2])
            mounts.setdefault(device, []).append(mount_point)
        return mounts
    return {}


def _decode_mount_field(field: bytes) -> str:
    raw = _MOUNT_ESCAPE.sub(lambda match: bytes([int(match.group(1), 8)]), field)
    return raw.decode("utf-8", "backslashreplace")


def _read_udev_properties(udev_root: Path, major_minor: str) -> dict[str, str]:
    if not major_minor:
        return {}
    try:
        content = (udev_root / "data" / f"b{major_minor}").read_text("utf-8", "replace")
    except OSError:
        return {}
    properties = {}
    for line in content.splitlines():
        if line.startswith("E:") and "=" in line:
            key, _, value = line[2:].partition("=")
            properties[key] = value
    return properties


def _filesystem_label(properties: dict[str, str]) -> str:
    """The label as the user typed it.

    ID_FS_LABEL has spaces and any byte that is not valid UTF-8 replaced by '_';
    ID_FS_LABEL_ENC keeps the original bytes, escaped as \\xNN. FAT labels are stored in the
    code page of the machine that wrote them, which for Windows PCs in China is GBK, so
    bytes that are not UTF-8 are read as GB18030 (a superset of GBK) before giving up.
    """
    encoded = properties.get("ID_FS_LABEL_ENC")
    if encoded is None:
        return properties.get("ID_FS_LABEL", "")
    raw = _UDEV_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), encoded.encode())
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "backslashreplace")


# --- reading sysfs ----------------------------------------------------------------------


def _read_attribute(path: Path) -> str:
    """A sysfs attribute without its newline and padding; "" when the device has none."""
    try:
        return path.read_text("utf-8", "replace").strip()
    except OSError:
        return ""


def _read_int(path: Path) -> int:
    try:
        return int(_read_attribute(path))
    except ValueError:
        return 0


def _link_name(path: Path) -> str:
    """The last part of a symlink's target (a driver's name); works for dangling links."""
    try:
        return Path(path.readlink()).name
    except OSError:
        return ""


def _bus_path_key(path: Path) -> tuple[str | int, ...]:
    """'1-3.10' sorts after '1-3.2': bus number, then each port number."""
    return _natural_key(path.name)


def _natural_key(name: str) -> tuple[str | int, ...]:
    """'sdb10' after 'sdb2': digit runs compare as numbers (text and numbers alternate)."""
    return tuple(int(part) if index % 2 else part for index, part in enumerate(_DIGITS.split(name)))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))

"""Removable storage attached now: disks from CIM, tied to their USB device and volumes.

Three PowerShell/registry sources, joined:
- `Win32_DiskDrive` (see `host.DISK_DRIVES`): every disk with its PNPDeviceID, size, media
  type; a disk counts when it is on USB or Windows calls its medium removable/external.
- `DISK_VOLUMES` below: the drive letters on each disk, walking CIM's own associations
  Win32_DiskDrive -> Win32_DiskPartition -> Win32_LogicalDisk, keyed by the disk's Index
  (the N of \\\\.\\PHYSICALDRIVEN).
- Enum\\USB in the registry: the USB device under each disk (`device_ids.UsbRegistry`), which
  gives VID, PID and the serial that registered-device lists are keyed by. A UAS disk's key
  under Enum\\SCSI is tied to its USB device only by ContainerID.
"""

from __future__ import annotations

from collections import defaultdict

from agent.facts import StorageDevice
from agent.platforms.base import CommandRunner
from agent.platforms.windows.device_ids import (
    ENUM,
    UsbRegistry,
    raw_serial_of,
    raw_storage_serial,
    serial_of,
    storage_vendor_product,
)
from agent.platforms.windows.host import disk_drives, is_external
from agent.platforms.windows.powershell import JsonRecord, run_json
from agent.platforms.windows.registry import RegistryView, text_value
from agent.usb_serial import normalise_serial

DISK_VOLUMES = (
    "Get-CimInstance Win32_DiskDrive | ForEach-Object { $disk = $_; "
    "Get-CimAssociatedInstance -InputObject $disk -ResultClassName Win32_DiskPartition "
    "| ForEach-Object { Get-CimAssociatedInstance -InputObject $_ "
    "-ResultClassName Win32_LogicalDisk } | ForEach-Object { [pscustomobject]@{ "
    "DiskIndex = $disk.Index; DeviceID = $_.DeviceID; VolumeName = $_.VolumeName; "
    "FileSystem = $_.FileSystem; DriveType = $_.DriveType } } } | ConvertTo-Json"
)
# Windows appends the bus to a disk's model: "SanDisk Cruzer Blade USB Device".
_MODEL_SUFFIXES = (" USB Device", " SCSI Disk Device")


def removable_storage(run: CommandRunner, registry: RegistryView) -> tuple[StorageDevice, ...]:
    disks = [disk for disk in disk_drives(run) if is_external(disk)]
    if not disks:
        return ()
    volumes: dict[int, list[JsonRecord]] = defaultdict(list)
    for volume in run_json(run, DISK_VOLUMES):
        volumes[volume.integer("DiskIndex", -1)].append(volume)
    usb = UsbRegistry(registry)
    return tuple(_storage(disk, volumes[disk.integer("Index")], usb, registry) for disk in disks)


def _storage(
    disk: JsonRecord, volumes: list[JsonRecord], usb: UsbRegistry, registry: RegistryView
) -> StorageDevice:
    pnp_id = disk.text("PNPDeviceID")
    enumerator, _, rest = pnp_id.partition("\\")
    hardware, _, instance = rest.partition("\\")
    spelled = _as_spelled(registry, enumerator, hardware)
    vendor, _ = storage_vendor_product(spelled)
    container = text_value(
        registry.values(f"{ENUM}\\{enumerator}\\{spelled}\\{instance}"), "ContainerID"
    )
    parent = usb.parent_of(instance, container) if instance else None
    interface = disk.text("InterfaceType").lower()
    raw = raw_serial_of(parent.id.instance) if parent else _own_serial(enumerator, instance)
    serial = serial_of(parent.id.instance) if parent else normalise_serial(raw)
    return StorageDevice(
        device=f"\\\\.\\PHYSICALDRIVE{disk.integer('Index')}",
        vendor_id=parent.id.vendor_id if parent else "",
        product_id=parent.id.product_id if parent else "",
        serial=serial,
        vendor=vendor,
        model=_model(disk.text("Model")),
        size_bytes=disk.integer("Size"),
        removable=disk.text("MediaType") == "Removable Media",
        bus="usb" if parent or enumerator.upper() == "USBSTOR" else interface,
        mounts=tuple(volume.text("DeviceID") for volume in volumes if volume.text("DeviceID")),
        labels=tuple(volume.text("VolumeName") for volume in volumes if volume.text("VolumeName")),
        filesystems=tuple(
            volume.text("FileSystem") for volume in volumes if volume.text("FileSystem")
        ),
        bus_path=parent.instance_id if parent else pnp_id,
        raw_serial=raw if raw != serial else "",
    )


def _as_spelled(registry: RegistryView, enumerator: str, hardware: str) -> str:
    """CIM upper-cases PNPDeviceID (DISK&VEN_SANDISK); the Enum key keeps the device's own
    spelling (Disk&Ven_SanDisk), which is what a person recognises."""
    folded = hardware.casefold()
    keys = registry.subkeys(f"{ENUM}\\{enumerator}")
    return next((key for key in keys if key.casefold() == folded), hardware)


def _model(text: str) -> str:
    for suffix in _MODEL_SUFFIXES:
        text = text.removesuffix(suffix)
    return text


def _own_serial(enumerator: str, instance: str) -> str:
    """Without the USB device's key only a USBSTOR id still carries the serial (SCSI ids of
    UAS disks are always made up)."""
    return raw_storage_serial(instance) if enumerator.upper() == "USBSTOR" else ""

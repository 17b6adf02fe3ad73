"""The Windows adapter against a real SYSTEM hive, compared with regipy's own reading.

The hive is a Windows 10 (build 19041 drivers) VMware guest's SYSTEM from dissect.regf's test
data (tests/fixtures/windows/README.md, `scripts/fetch-real-hives`). It has no removable
storage, but real Enum\\USB devices: a hub, a composite mouse with two interfaces, a Bluetooth
adapter with a serial, root hubs, each with ContainerID, device-time properties and key
last-write times, which is what the adapter's device reading rests on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agent.platforms.windows import RegExportRegistry
from agent.platforms.windows.device_ids import ENUM, UsbRegistry
from agent.platforms.windows.history import DEVICE_TIMES, TIME_PROPERTIES, device_times
from agent.platforms.windows.hivefile import HiveFileRegistry
from tests.windows_hives import DISSECT_SYSTEM, open_hive, real_hive, reg_export

USB = f"{ENUM}\\USB"


@pytest.fixture(scope="module")
def hive() -> Any:
    return open_hive(real_hive(DISSECT_SYSTEM))


@pytest.fixture(scope="module")
def plugin_entries(hive: Any) -> list[dict[str, Any]]:
    """regipy's usb_devices plugin: its reading of Enum\\USB in every control set."""
    from regipy.plugins.system.usb_devices import USBDevicesPlugin

    plugin = USBDevicesPlugin(hive, as_json=False)
    plugin.run()
    entries: list[dict[str, Any]] = plugin.entries
    return [entry for entry in entries if entry["key_path"].startswith("\\ControlSet001\\")]


@pytest.fixture(scope="module")
def exported(hive: Any) -> RegExportRegistry:
    """Enum\\USB converted to `reg export` text by regipy, read back by the adapter's parser."""
    text = reg_export(hive, "\\ControlSet001\\Enum\\USB", "HKEY_LOCAL_MACHINE\\" + USB[5:])
    return RegExportRegistry([(text, "real SYSTEM Enum\\USB")])


@pytest.fixture(scope="module")
def hive_file() -> HiveFileRegistry:
    return HiveFileRegistry({"HKLM\\SYSTEM": real_hive(DISSECT_SYSTEM)})


def test_the_adapter_finds_every_usb_device_regipy_finds_with_the_same_ids(
    exported: RegExportRegistry, plugin_entries: list[dict[str, Any]]
) -> None:
    ours = {
        (node.hardware, node.id.instance): (
            node.id.vendor_id,
            node.id.product_id,
            node.text("ContainerID"),
        )
        for node in UsbRegistry(exported).nodes
    }
    theirs = {
        (entry["vid_pid"], entry["instance_id"]): (
            entry["vid"].lower(),
            entry["pid"].lower(),
            entry["container_id"],
        )
        for entry in plugin_entries
        if entry["vid"]  # root hubs have no VID/PID: neither side counts them as devices
    }
    assert ours == theirs
    assert len(ours) == 7


def test_reading_the_hive_file_equals_reading_its_reg_export(
    exported: RegExportRegistry, hive_file: HiveFileRegistry
) -> None:
    """CurrentControlSet resolves through Select\\Current, and every value of every Enum\\USB
    key reads the same from the hive file as from the `reg export` text."""
    paths = [USB]
    compared = 0
    while paths:
        path = paths.pop()
        assert hive_file.values(path) == exported.values(path), path
        assert sorted(hive_file.subkeys(path)) == sorted(exported.subkeys(path)), path
        paths += [f"{path}\\{sub}" for sub in hive_file.subkeys(path)]
        compared += 1
    assert compared > 100


def test_key_write_times_are_those_regipy_reads(
    hive_file: HiveFileRegistry, plugin_entries: list[dict[str, Any]]
) -> None:
    for entry in plugin_entries:
        path = f"{USB}\\{entry['vid_pid']}\\{entry['instance_id']}"
        ours = hive_file.last_written(path)
        assert ours is not None, path
        # regipy rounds the 100-ns ticks to microseconds, the adapter truncates them
        assert abs(ours - entry["last_write"]) <= dt.timedelta(microseconds=1), path


def _regipy_times(hive: Any, instance: str) -> list[dt.datetime]:
    from regipy.exceptions import RegistryKeyNotFoundException

    found = []
    for prop in TIME_PROPERTIES:
        try:
            key = hive.get_key(
                f"\\ControlSet001\\Enum\\USB\\{instance}\\Properties\\{DEVICE_TIMES}\\{prop}"
            )
        except RegistryKeyNotFoundException:
            continue
        found += [value.value for value in key.iter_values(as_json=False)]
    return found


def test_first_seen_is_the_earliest_device_time_even_when_the_last_arrival_is_earlier(
    hive: Any, exported: RegExportRegistry, plugin_entries: list[dict[str, Any]]
) -> None:
    """On this real hive the composite mouse's last arrival (0066, 16:29 on 22 June) comes
    before its install and first install dates (0064/0065, 01:22 on 23 June)."""
    mouse = "VID_0E0F&PID_0003\\6&30c5d09c&0&5"
    first, last = device_times(exported, f"{USB}\\{mouse}")
    assert first == dt.datetime(2022, 6, 22, 16, 29, 6, 990056, tzinfo=dt.timezone.utc)
    assert last == dt.datetime(2022, 6, 23, 1, 22, 59, 878652, tzinfo=dt.timezone.utc)
    for entry in plugin_entries:
        instance = f"{entry['vid_pid']}\\{entry['instance_id']}"
        times = _regipy_times(hive, instance)
        if times:
            assert device_times(exported, f"{USB}\\{instance}") == (min(times), max(times))


def test_an_interface_is_tied_to_its_device_by_parent_id_prefix_on_real_data(
    exported: RegExportRegistry,
) -> None:
    usb = UsbRegistry(exported)
    interface = next(node for node in usb.nodes if node.hardware.endswith("&MI_00"))
    parent = usb.parent_of(interface.id.instance)
    assert parent is not None
    assert parent.hardware == "VID_0E0F&PID_0003"
    assert parent.text("ContainerID") == interface.text("ContainerID")
    assert usb.by_container(interface.text("ContainerID")) == parent


def test_a_device_with_a_serial_keeps_it_and_made_up_ids_give_none(
    exported: RegExportRegistry,
) -> None:
    from agent.platforms.windows.device_ids import serial_of

    serials = {node.hardware: serial_of(node.id.instance) for node in UsbRegistry(exported).nodes}
    assert serials["VID_0E0F&PID_0008"] == "000650268328"  # the Bluetooth adapter
    assert serials["VID_0E0F&PID_0003"] == ""  # 6&30c5d09c&0&5: made up by Windows

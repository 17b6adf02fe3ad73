"""Cases real Windows machines have and the first fixtures did not (issue 12 §1).

The real hives at hand (tests/test_windows_real_hives.py) hold none of these cases, so each
test states the case in a small `reg export` made from the documented formats: reconstructed,
not recorded (see tests/fixtures/windows/README.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from agent.evaluation.media import is_registered
from agent.platforms.windows import RegExportRegistry, WindowsAdapter, WinregRegistry
from agent.platforms.windows.host import DISK_DRIVES
from agent.platforms.windows.powershell import UTF8_PREFIX
from agent.platforms.windows.regfile import parse_reg_export
from agent.platforms.windows.storage import DISK_VOLUMES
from agent.policy.model import RegisteredDevice
from agent.usb_serial import normalise_serial

UTC = dt.timezone.utc
HEADER = "Windows Registry Editor Version 5.00\r\n\r\n"
ENUM = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum"
UNINSTALL = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
TIMES = "Properties\\{83da6326-97a6-4088-9453-a1923f573b29}"


def export(*lines: str) -> str:
    return HEADER + "\r\n".join(lines) + "\r\n"


def filetime(moment: dt.datetime) -> str:
    ticks = (moment - dt.datetime(1601, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1) * 10
    return ",".join(f"{byte:02x}" for byte in ticks.to_bytes(8, "little"))


class Runner:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        return self.outputs.get(argv[4].removeprefix(UTF8_PREFIX), "")


# --- 1. UAS disks: joined by ContainerID, named from Enum\SCSI -------------------------------

UAS_CONTAINER = "{8e1f2a3b-4c5d-5e6f-9a0b-1c2d3e4f5a6b}"
UAS = export(
    f"[{ENUM}\\USB\\VID_0BDA&PID_9210\\012345678904]",
    '"DeviceDesc"="@uaspstor.inf,%uaspstor.devicedesc%;USB Attached SCSI (UAS) Mass Storage Device"',
    f'"ContainerID"="{UAS_CONTAINER}"',
    '"Service"="UASPStor"',
    '"Class"="SCSIAdapter"',
    "",
    f"[{ENUM}\\SCSI\\Disk&Ven_Realtek&Prod_RTL9210B-CG\\8&1f2e3d4c&0&000000]",
    '"FriendlyName"="Realtek RTL9210B-CG SCSI Disk Device"',
    f'"ContainerID"="{UAS_CONTAINER}"',
    '"Service"="disk"',
)
UAS_DISK = json.dumps(
    {
        "Model": "Realtek RTL9210B-CG SCSI Disk Device",
        "SerialNumber": "012345678904",
        "InterfaceType": "SCSI",
        "PNPDeviceID": "SCSI\\DISK&VEN_REALTEK&PROD_RTL9210B-CG\\8&1F2E3D4C&0&000000",
        "Size": 1000204886016,
        "MediaType": "External hard disk media",
        "Index": 1,
    }
)


def test_an_attached_uas_disk_gets_vid_pid_and_serial_through_its_container_id() -> None:
    runner = Runner({DISK_DRIVES: UAS_DISK, DISK_VOLUMES: ""})
    [disk] = WindowsAdapter(RegExportRegistry([UAS]), runner).removable_storage()
    assert (disk.vendor_id, disk.product_id, disk.serial) == ("0bda", "9210", "012345678904")
    assert (disk.vendor, disk.model, disk.bus) == ("Realtek", "Realtek RTL9210B-CG", "usb")
    assert disk.bus_path == "USB\\VID_0BDA&PID_9210\\012345678904"


def test_a_uas_disk_in_the_history_has_its_products_name_not_the_drivers() -> None:
    [event] = WindowsAdapter(RegExportRegistry([UAS]), Runner({})).media_history(None).events
    assert (event.product, event.manufacturer) == (
        "Realtek RTL9210B-CG SCSI Disk Device",
        "Realtek",
    )
    assert (event.vendor_id, event.product_id, event.serial) == ("0bda", "9210", "012345678904")


def test_the_null_container_ties_no_disk_to_a_usb_device() -> None:
    null = "{00000000-0000-0000-ffff-ffffffffffff}"
    registry = RegExportRegistry([UAS.replace(UAS_CONTAINER, null)])
    runner = Runner({DISK_DRIVES: UAS_DISK, DISK_VOLUMES: ""})
    [disk] = WindowsAdapter(registry, runner).removable_storage()
    assert (disk.vendor_id, disk.serial) == ("", "")


# --- 2. serials: one spelling on every OS ----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("MSFT304C530001230521112345", "4C530001230521112345"),
        ("msft30abc", "ABC"),
        (" 4c5300012305 ", "4C5300012305"),
        ("MSFT30", "MSFT30"),  # nothing left to compare: kept
        ("", ""),
    ],
)
def test_serials_are_normalised_the_same_way_everywhere(raw: str, normalised: str) -> None:
    assert normalise_serial(raw) == normalised


def test_a_windows_usb3_serial_loses_its_msft30_prefix_and_keeps_it_as_evidence() -> None:
    registry = RegExportRegistry(
        [
            export(
                f"[{ENUM}\\USBSTOR\\Disk&Ven_Kingston&Prod_DataTraveler_3.0&Rev_PMAP\\MSFT30E0D55EA573DCF450E9890E4D&0]",
                '"FriendlyName"="Kingston DataTraveler 3.0 USB Device"',
                "",
                f"[{ENUM}\\USB\\VID_0951&PID_1666\\MSFT30E0D55EA573DCF450E9890E4D]",
                '"Service"="USBSTOR"',
            )
        ]
    )
    [event] = WindowsAdapter(registry, Runner({})).media_history(None).events
    assert (event.vendor_id, event.serial) == ("0951", "E0D55EA573DCF450E9890E4D")
    assert event.raw_serial == "MSFT30E0D55EA573DCF450E9890E4D"


def test_a_registered_stick_matches_whatever_spelling_the_register_or_the_os_uses() -> None:
    register = [RegisteredDevice("0951", "1666", "e0d55ea573dcf450e9890e4d")]
    assert is_registered(register, "0951", "1666", "MSFT30E0D55EA573DCF450E9890E4D")
    assert is_registered(register, "0951", "1666", "E0D55EA573DCF450E9890E4D")
    assert not is_registered(register, "0951", "1666", "E0D55EA573DCF450E9890E4E")


# --- 3. 32-bit Windows: one registry view ----------------------------------------------------


def test_32_bit_windows_lists_each_machine_wide_program_once() -> None:
    registry = RegExportRegistry(
        [
            export(
                f"[HKEY_LOCAL_MACHINE\\{UNINSTALL}\\7-Zip]",
                '"DisplayName"="7-Zip 19.00"',
                '"DisplayVersion"="19.00"',
            )
        ],
        single_view=True,
    )
    found = WindowsAdapter(registry, Runner({})).installed_software()
    assert [(p.name, p.source) for p in found] == [("7-Zip 19.00", "registry:HKLM64")]


# --- 4 and 5. key write times and device times -----------------------------------------------


def test_an_entry_without_install_date_shows_the_day_its_key_was_written() -> None:
    key = f"HKEY_LOCAL_MACHINE\\{UNINSTALL}\\7-Zip"
    registry = RegExportRegistry(
        [export(f"[{key}]", '"DisplayName"="7-Zip 23.01 (x64)"')],
        key_times={key: dt.datetime(2024, 3, 5, 9, 30, tzinfo=UTC)},
    )
    [program] = WindowsAdapter(registry, Runner({})).installed_software()
    assert program.install_date == "2024-03-05"


def test_a_windows_7_stick_without_device_properties_is_last_seen_when_its_key_was_written() -> (
    None
):
    key = f"{ENUM}\\USBSTOR\\Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.26\\20043514420F0E7186CB&0"
    registry = RegExportRegistry(
        [export(f"[{key}]", '"FriendlyName"="SanDisk Cruzer USB Device"')],
        key_times={key: dt.datetime(2015, 11, 2, 7, 12, 40, tzinfo=UTC)},
    )
    [event] = WindowsAdapter(registry, Runner({})).media_history(None).events
    assert (event.time, event.last_seen) == (None, dt.datetime(2015, 11, 2, 7, 12, 40, tzinfo=UTC))


def test_first_and_last_seen_span_all_four_device_times() -> None:
    instance = f"{ENUM}\\USBSTOR\\Disk&Ven_aigo&Prod_U330&Rev_1.00\\AA12345678&0"
    times = {
        "0064": dt.datetime(2024, 5, 2, tzinfo=UTC),
        "0065": dt.datetime(2024, 5, 2, tzinfo=UTC),
        "0066": dt.datetime(2024, 4, 30, tzinfo=UTC),  # earlier than the "first install"
        "0067": dt.datetime(2024, 6, 1, tzinfo=UTC),  # the last removal, after the arrival
    }
    registry = RegExportRegistry(
        [
            export(
                f"[{instance}]",
                '"FriendlyName"="aigo U330 USB Device"',
                *(
                    f"[{instance}\\{TIMES}\\{p}]\r\n@=hex(ffff0010):{filetime(t)}"
                    for p, t in times.items()
                ),
            )
        ]
    )
    [event] = WindowsAdapter(registry, Runner({})).media_history(None).events
    assert (event.time, event.last_seen) == (times["0066"], times["0067"])
    recent = WindowsAdapter(registry, Runner({})).media_history(
        dt.datetime(2024, 5, 15, tzinfo=UTC)
    )
    assert len(recent.events) == 1  # removed after the cut-off, so seen after it


class TimedWinreg:
    """winreg's QueryInfoKey gives the last write as 100-ns ticks since 1601."""

    @contextmanager
    def OpenKey(self, key: int, sub_key: str, reserved: int, access: int, /) -> Iterator[str]:  # noqa: N802
        yield sub_key

    def QueryInfoKey(self, key: Any, /) -> tuple[int, int, int]:  # noqa: N802
        return 0, 0, 133_004_209_798_786_530

    def EnumKey(self, key: Any, index: int, /) -> str:  # noqa: N802
        raise OSError

    def EnumValue(self, key: Any, index: int, /) -> tuple[str, Any, int]:  # noqa: N802
        raise OSError


def test_the_live_registry_reports_key_write_times() -> None:
    written = WinregRegistry(TimedWinreg()).last_written("HKLM\\SOFTWARE\\X")
    assert written == dt.datetime(2022, 6, 23, 1, 22, 59, 878653, tzinfo=UTC)


# --- 7. a damaged value does not sink the file -----------------------------------------------


def test_an_odd_length_string_value_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = export(
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]",
        '"Broken"=hex(2):41,00,42',
        '"AlsoBroken"=hex(1):41',
        '"Good"="kept"',
        "",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Next]",
        '"Also"="read"',
    )
    with caplog.at_level(logging.WARNING):
        keys = parse_reg_export(text, "damaged.reg")
    assert [(path, sorted(values)) for path, values in keys] == [
        ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor", ["Good"]),
        ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Next", ["Also"]),
    ]
    assert (
        "damaged.reg:4: UTF-16 data with an odd number of bytes; value 'Broken' skipped"
        in caplog.text
    )
    assert "value 'AlsoBroken' skipped" in caplog.text

"""Linux removable media: USB devices and storage from sysfs, history from the kernel log.

The sysfs trees and logs under tests/fixtures/linux/usb/ are described in the README there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from linux_sysfs import FIXTURES, MachineRoots, load_fixture, materialise, materialise_fixture

from agent.errors import CommandError
from agent.facts import MediaEvent, StorageDevice, UsbClass, UsbDevice
from agent.platforms.linux.kernel_log import read_media_history
from agent.platforms.linux.media import read_removable_storage, read_usb_devices

CST = dt.timezone(dt.timedelta(hours=8))
RECORDER = FIXTURES.parent / "record_usb.py"
JOURNAL_ARGV = ["journalctl", "_TRANSPORT=kernel", "-o", "json", "--no-pager"]


def cst(
    year: int, month: int, day: int, hour: int, minute: int, second: int = 0, micro: int = 0
) -> dt.datetime:
    """A moment in China Standard Time, the zone the fixtures were written in."""
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=CST)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> MachineRoots:
    """One office desktop tree for the tests that only read it (writing one takes a while)."""
    return materialise_fixture("office_desktop.json", tmp_path_factory.mktemp("office"))


def usb_by_path(roots: MachineRoots) -> dict[str, UsbDevice]:
    return {device.bus_path: device for device in read_usb_devices(roots.sys)}


def storage_of(roots: MachineRoots) -> dict[str, StorageDevice]:
    found = read_removable_storage(roots.sys, roots.proc, roots.udev)
    return {device.device: device for device in found}


# --- USB devices ------------------------------------------------------------------------


def test_it_lists_every_usb_device_in_bus_order_without_root_hubs(office: MachineRoots) -> None:
    paths = [device.bus_path for device in read_usb_devices(office.sys)]
    assert paths == ["1-1", "1-2", "1-3", "1-3.1", "1-4", "1-5", "1-6"]


def test_it_reports_the_cruzer_blade_with_its_serial(office: MachineRoots) -> None:
    assert usb_by_path(office)["1-1"] == UsbDevice(
        bus_path="1-1",
        vendor_id="0781",
        product_id="5567",
        serial="4C530001230521112345",
        manufacturer="SanDisk",
        product="Cruzer Blade",
        usb_class=UsbClass.MASS_STORAGE,
        interface_classes=("08/06/50",),
        driver="usb-storage",
    )


def test_it_reports_a_stick_without_serial_as_an_empty_serial(office: MachineRoots) -> None:
    stick = usb_by_path(office)["1-2"]
    assert (stick.vendor_id, stick.product_id, stick.serial) == ("058f", "6387", "")
    assert not stick.has_serial
    assert stick.usb_class is UsbClass.MASS_STORAGE


def test_it_recognises_an_android_phone_in_mtp_mode_by_its_interface_name(
    office: MachineRoots,
) -> None:
    assert usb_by_path(office)["1-6"] == UsbDevice(
        bus_path="1-6",
        vendor_id="2717",
        product_id="ff40",
        serial="d3b4c6e1",
        manufacturer="Xiaomi",
        product="Mi 10",
        usb_class=UsbClass.PHONE_OR_CAMERA,
        interface_classes=("ff/ff/00",),
        driver="",
    )


def test_it_reports_an_iphone_as_a_phone_with_its_tethering_driver(office: MachineRoots) -> None:
    assert usb_by_path(office)["1-4"] == UsbDevice(
        bus_path="1-4",
        vendor_id="05ac",
        product_id="12a8",
        serial="00008030001A2B3C4D5E802E",
        manufacturer="Apple Inc.",
        product="iPhone",
        usb_class=UsbClass.PHONE_OR_CAMERA,
        interface_classes=("06/01/01", "ff/fe/02", "ff/fd/01"),
        driver="ipheth",
    )


def test_it_reports_rndis_tethering_as_network(office: MachineRoots) -> None:
    phone = usb_by_path(office)["1-5"]
    assert phone.usb_class is UsbClass.NETWORK
    assert phone.interface_classes == ("e0/01/03", "0a/00/00")
    assert phone.driver == "rndis_host"
    assert phone.serial == "1A021FDF600B3G"


def test_it_reports_the_keyboard_behind_a_hub(office: MachineRoots) -> None:
    devices = usb_by_path(office)
    assert devices["1-3"].usb_class is UsbClass.HUB
    assert devices["1-3"].manufacturer == ""  # the hub has no manufacturer string
    keyboard = devices["1-3.1"]
    assert (keyboard.usb_class, keyboard.interface_classes, keyboard.driver) == (
        UsbClass.HID,
        ("03/01/01", "03/00/00"),
        "usbhid",
    )


def test_it_does_not_take_a_bluetooth_adapter_or_webcam_for_a_network_path(
    tmp_path: Path,
) -> None:
    devices = usb_by_path(materialise_fixture("laptop_sd_card.json", tmp_path))
    assert devices["1-10"].interface_classes == ("e0/01/01", "e0/01/01")
    assert devices["1-10"].usb_class is UsbClass.OTHER
    assert devices["1-5"].usb_class is UsbClass.OTHER
    assert devices["1-5"].driver == "uvcvideo"


# --- attached storage -------------------------------------------------------------------


def test_it_reports_the_cruzer_with_its_mount_and_its_gbk_label(office: MachineRoots) -> None:
    assert storage_of(office)["/dev/sdb"] == StorageDevice(
        device="/dev/sdb",
        vendor_id="0781",
        product_id="5567",
        serial="4C530001230521112345",
        vendor="SanDisk",
        model="Cruzer Blade",
        size_bytes=30031872 * 512,
        removable=True,
        bus="usb",
        mounts=("/media/zhangsan/1A2B-3C4D",),
        labels=("办公资料",),
        filesystems=("vfat",),
        bus_path="1-1",
    )


def test_it_decodes_the_escaped_space_of_the_cheap_sticks_mount_and_label(
    office: MachineRoots,
) -> None:
    stick = storage_of(office)["/dev/sdc"]
    assert (stick.serial, stick.vendor, stick.model) == ("", "Generic", "Flash Disk")
    assert stick.mounts == ("/media/zhangsan/USB DISK",)
    assert stick.labels == ("USB DISK",)


def test_it_leaves_out_internal_disks_an_empty_dvd_drive_and_loop_devices(
    office: MachineRoots,
) -> None:
    assert sorted(storage_of(office)) == ["/dev/sdb", "/dev/sdc"]


def test_it_counts_a_kernel_marked_removable_disk_once_it_holds_a_medium(tmp_path: Path) -> None:
    document = load_fixture("office_desktop.json")
    sr0 = "devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sr0/size"
    document["files"][sr0] = "9180416\n"  # a DVD in the drive
    dvd = storage_of(materialise(document, tmp_path))["/dev/sr0"]
    assert (dvd.bus, dvd.removable, dvd.vendor, dvd.model) == (
        "ata",
        True,
        "HL-DT-ST",
        "DVD+-RW GU90N",
    )
    assert (dvd.vendor_id, dvd.serial, dvd.size_bytes) == ("", "", 9180416 * 512)


def test_it_reads_a_filesystem_made_on_the_whole_disk(tmp_path: Path) -> None:
    document = load_fixture("office_desktop.json")
    document["udev"]["b8:32"] = document["udev"].pop("b8:33")
    document["proc_mounts"] = document["proc_mounts"].replace("/dev/sdc1 ", "/dev/sdc ")
    stick = storage_of(materialise(document, tmp_path))["/dev/sdc"]
    assert (stick.mounts, stick.labels, stick.filesystems) == (
        ("/media/zhangsan/USB DISK",),
        ("USB DISK",),
        ("vfat",),
    )


@pytest.mark.parametrize(
    ("udev_lines", "label"),
    [
        (["E:ID_FS_LABEL=资料盘", "E:ID_FS_LABEL_ENC=资料盘"], "资料盘"),  # exFAT: UTF-8 already
        (["E:ID_FS_LABEL=2024_年报"], "2024_年报"),  # an old udev without _ENC
        (["E:ID_FS_LABEL=__", "E:ID_FS_LABEL_ENC=\\xff\\xfe"], "\\xff\\xfe"),  # neither encoding
        ([], ""),
    ],
)
def test_it_decodes_the_udev_label(tmp_path: Path, udev_lines: list[str], label: str) -> None:
    document = load_fixture("office_desktop.json")
    document["udev"]["b8:17"] = "".join(f"{line}\n" for line in [*udev_lines, "E:ID_FS_TYPE=vfat"])
    cruzer = storage_of(materialise(document, tmp_path))["/dev/sdb"]
    assert cruzer.labels == ((label,) if label else ())


def test_it_reads_proc_mounts_when_self_mounts_is_missing(tmp_path: Path) -> None:
    roots = materialise_fixture("office_desktop.json", tmp_path)
    (roots.proc / "self" / "mounts").rename(roots.proc / "mounts")
    assert storage_of(roots)["/dev/sdb"].mounts == ("/media/zhangsan/1A2B-3C4D",)


def test_it_reports_an_sd_card_but_not_the_laptops_nvme_disk(tmp_path: Path) -> None:
    found = read_removable_storage(*_roots(materialise_fixture("laptop_sd_card.json", tmp_path)))
    assert found == (
        StorageDevice(
            device="/dev/mmcblk0",
            vendor_id="",
            product_id="",
            serial="0xa7c91e20",
            vendor="0x000003",
            model="SC64G",
            size_bytes=124735488 * 512,
            removable=False,  # the mmc block driver never sets the flag, even for SD cards
            bus="mmc",
            mounts=(),
            labels=("EOS_DIGITAL",),
            filesystems=("exfat",),
            bus_path="mmc0:aaaa",
        ),
    )


def test_it_skips_an_emmc_system_disk_but_reports_a_usb_ssd_the_kernel_calls_fixed(
    tmp_path: Path,
) -> None:
    found = read_removable_storage(
        *_roots(materialise_fixture("thin_client_uas_ssd.json", tmp_path))
    )
    assert found == (
        StorageDevice(
            device="/dev/sda",
            vendor_id="04e8",
            product_id="4001",
            serial="S6XJNS0T812345A",
            vendor="Samsung",
            model="PSSD T7",
            size_bytes=1953525168 * 512,
            removable=False,
            bus="usb",
            mounts=("/media/wanglei/T7",),
            labels=("T7",),
            filesystems=("exfat",),
            bus_path="2-1",
        ),
    )


def _roots(roots: MachineRoots) -> tuple[Path, Path, Path]:
    return roots.sys, roots.proc, roots.udev


# --- this machine -----------------------------------------------------------------------


def test_it_reads_this_machines_real_sysfs_without_failing() -> None:
    devices = read_usb_devices()
    storage = read_removable_storage()
    assert all(isinstance(device, UsbDevice) for device in devices)
    assert all(isinstance(disk, StorageDevice) for disk in storage)
    if not Path("/sys/bus/usb/devices").exists():  # the build machines have no USB bus
        assert devices == ()
        assert all(disk.bus != "usb" for disk in storage)


def test_it_gives_this_machines_history_or_an_honest_error() -> None:
    history = read_media_history(None)
    if history.source:
        assert history.error == ""
    else:
        assert history.events == ()
        assert history.error.startswith("journal: ")
        assert "log files: " in history.error


# --- the recorder -----------------------------------------------------------------------


def record(*args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(RECORDER), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


def test_the_recorder_records_this_machine_into_a_fixture_that_reads_the_same(
    tmp_path: Path,
) -> None:
    document = record("--description", "this machine")
    assert document["description"] == "this machine"
    assert set(document) >= {"files", "links", "proc_mounts", "udev"}
    roots = materialise(document, tmp_path)
    assert read_usb_devices(roots.sys) == read_usb_devices()
    assert read_removable_storage(*_roots(roots)) == read_removable_storage()


def test_the_recorder_round_trips_a_fixture_tree(office: MachineRoots, tmp_path: Path) -> None:
    document = record(
        "--sys", str(office.sys), "--proc", str(office.proc), "--udev", str(office.udev)
    )
    again = materialise(document, tmp_path / "again")
    assert read_usb_devices(again.sys) == read_usb_devices(office.sys)
    assert read_removable_storage(*_roots(again)) == read_removable_storage(*_roots(office))
    assert len(read_removable_storage(*_roots(again))) == 2


def test_the_committed_recording_of_a_machine_without_usb_reads_empty(tmp_path: Path) -> None:
    roots = materialise_fixture("build_container_no_usb.json", tmp_path)
    assert read_usb_devices(roots.sys) == ()
    assert read_removable_storage(*_roots(roots)) == ()


# --- history from the journal -----------------------------------------------------------


class FakeJournal:
    """Answers like journalctl over the recorded JSON lines: honours --since and -n."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        self.calls.append(list(argv))
        lines = self.lines
        if "--since" in argv:
            since_us = int(argv[argv.index("--since") + 1].lstrip("@")) * 1_000_000
            lines = [
                line for line in lines if int(json.loads(line)["__REALTIME_TIMESTAMP"]) >= since_us
            ]
        if "-n" in argv:
            lines = lines[-int(argv[argv.index("-n") + 1]) :]
        return "".join(f"{line}\n" for line in lines)


@pytest.fixture
def journal() -> FakeJournal:
    return FakeJournal((FIXTURES / "journal_kernel.json").read_text(encoding="utf-8"))


def brief(event: MediaEvent) -> tuple[Any, ...]:
    return (
        event.bus_path,
        event.vendor_id,
        event.product_id,
        event.serial,
        event.usb_class,
        event.time,
        event.last_seen,
    )


JOURNAL_EVENTS = [
    ("1-3", "05e3", "0608", "", UsbClass.HUB, cst(2026, 11, 26, 8, 58, 6, 325204), None),
    ("1-3.1", "046d", "c31c", "", UsbClass.HID, cst(2026, 11, 26, 8, 58, 6, 325204), None),
    (
        "1-1", "0781", "5567", "4C530001230521112345", UsbClass.MASS_STORAGE,
        cst(2026, 11, 26, 9, 30, 3, 531402), cst(2026, 11, 26, 10, 2, 8, 528280),
    ),
    (
        "1-2", "058f", "6387", "", UsbClass.MASS_STORAGE,
        cst(2026, 11, 26, 9, 30, 3, 925877), cst(2026, 11, 26, 9, 41, 48, 860902),
    ),
    (
        "1-1", "058f", "6387", "", UsbClass.MASS_STORAGE,
        cst(2026, 11, 26, 10, 15, 19, 119339), cst(2026, 11, 26, 10, 20, 42, 723558),
    ),
    (
        "1-4", "05ac", "12a8", "00008030001A2B3C4D5E802E", UsbClass.PHONE_OR_CAMERA,
        cst(2026, 11, 26, 14, 40, 9, 964203), cst(2026, 11, 26, 15, 4, 59, 503331),
    ),
    (
        "1-5", "18d1", "4ee3", "1A021FDF600B3G", UsbClass.NETWORK,
        cst(2026, 11, 26, 15, 20, 37, 815117), cst(2026, 11, 26, 15, 50, 10, 529540),
    ),
    ("1-6", "2717", "ff40", "d3b4c6e1", UsbClass.OTHER, cst(2026, 11, 26, 16, 1, 27, 750912), None),
    ("1-3", "05e3", "0608", "", UsbClass.HUB, cst(2026, 11, 27, 8, 31, 6, 139204), None),
    ("1-3.1", "046d", "c31c", "", UsbClass.HID, cst(2026, 11, 27, 8, 31, 6, 139204), None),
    (
        "2-1", "04e8", "4001", "S6XJNS0T812345A", UsbClass.MASS_STORAGE,
        cst(2026, 11, 27, 9, 12, 42, 107126), None,
    ),
]  # fmt: skip


def test_it_builds_one_event_per_connection_from_the_journal(journal: FakeJournal) -> None:
    history = read_media_history(None, journal)
    assert (history.source, history.error) == ("journal", "")
    assert [brief(event) for event in history.events] == JOURNAL_EVENTS
    assert journal.calls == [JOURNAL_ARGV]


def test_it_keeps_the_descriptor_strings_of_each_connection(journal: FakeJournal) -> None:
    cruzer = read_media_history(None, journal).events[2]
    assert cruzer == MediaEvent(
        time=cst(2026, 11, 26, 9, 30, 3, 531402),
        vendor_id="0781",
        product_id="5567",
        serial="4C530001230521112345",
        product="Cruzer Blade",
        manufacturer="SanDisk",
        usb_class=UsbClass.MASS_STORAGE,
        source="journal",
        last_seen=cst(2026, 11, 26, 10, 2, 8, 528280),
        bus_path="1-1",
    )


def test_it_asks_the_journal_only_for_lines_since_the_last_check(journal: FakeJournal) -> None:
    since = cst(2026, 11, 26, 14, 0)
    history = read_media_history(since, journal)
    assert journal.calls == [[*JOURNAL_ARGV, "--since", f"@{int(since.timestamp())}"]]
    assert [brief(event) for event in history.events] == JOURNAL_EVENTS[5:]


def test_it_filters_by_since_even_when_the_journal_answers_with_more(journal: FakeJournal) -> None:
    def ignores_since(argv: Sequence[str], timeout: float = 10.0) -> str:
        return "\n".join(journal.lines)

    history = read_media_history(cst(2026, 11, 26, 14, 0), ignores_since)
    assert [event.bus_path for event in history.events] == [
        "1-4",
        "1-5",
        "1-6",
        "1-3",
        "1-3.1",
        "2-1",
    ]


def test_it_keeps_a_quiet_journal_as_the_source(journal: FakeJournal) -> None:
    history = read_media_history(cst(2026, 11, 28, 9, 0), journal)
    assert history == type(history)(events=(), source="journal", error="")
    assert journal.calls[-1] == [*JOURNAL_ARGV, "-n", "1"]


def test_it_keeps_the_journal_as_the_source_when_no_usb_device_was_ever_connected(
    journal: FakeJournal,
) -> None:
    journal.lines = [line for line in journal.lines if "usb" not in line.lower()]
    assert journal.lines  # kernel lines about disks and the boot are left
    history = read_media_history(None, journal)
    assert (history.events, history.source, history.error) == ((), "journal", "")


def test_it_reads_a_message_the_journal_gives_as_bytes() -> None:
    entries = [
        {"__REALTIME_TIMESTAMP": "1795655000000000", "_BOOT_ID": "b", "MESSAGE": text}
        for text in (
            "usb 1-2: new high-speed USB device number 9 using xhci_hcd",
            "usb 1-2: New USB device found, idVendor=1908, idProduct=0226, bcdDevice= 1.00",
            list(b"usb 1-2: Product: U\xc5\xcc\x01"),  # not UTF-8, and a control character
            [list(b"usb 1-2: Manufacturer: \xe9\x87\x91\xe5\x8d\x8e\x07"), "ignored twin"],
        )
    ]
    output = "".join(json.dumps(entry) + "\n" for entry in entries)
    (event,) = read_media_history(None, lambda argv, timeout=10.0: output).events
    assert (event.product, event.manufacturer) == ("U\\xc5\\xcc\x01", "金华\x07")


def test_it_does_not_carry_a_connection_across_a_reboot() -> None:
    """After a reboot, lines for a bus path whose "new device" line was lost (the journal
    rate-limits the kernel) must not be pinned on the previous boot's device."""
    lines = [
        ("boot-a", "usb 1-6: new high-speed USB device number 10 using xhci_hcd"),
        ("boot-a", "usb 1-6: New USB device found, idVendor=2717, idProduct=ff40, bcdDevice= 4.14"),
        ("boot-a", "usb 1-6: Product: Mi 10"),
        ("boot-b", "usb 1-6: Product: Redmi Note 12"),
        ("boot-b", "usb 1-6: USB disconnect, device number 10"),
    ]
    output = "".join(
        json.dumps(
            {"__REALTIME_TIMESTAMP": str(1795654682413000 + n), "_BOOT_ID": boot, "MESSAGE": m}
        )
        + "\n"
        for n, (boot, m) in enumerate(lines)
    )
    (event,) = read_media_history(None, lambda argv, timeout=10.0: output).events
    assert (event.product, event.last_seen) == ("Mi 10", None)


@pytest.mark.parametrize(
    "lines",
    [
        [  # printk.time off: no uptime stamps, the boot shows as "Linux version"
            "Nov 26 16:05:30 pc-0412 kernel: usb 1-6: new high-speed USB device number 10"
            " using xhci_hcd",
            "Nov 26 16:05:30 pc-0412 kernel: usb 1-6: New USB device found, idVendor=2717,"
            " idProduct=ff40, bcdDevice= 4.14",
            "Nov 26 17:40:02 pc-0412 kernel: Linux version 6.1.0-18-amd64 (gcc-12)",
            "Nov 26 17:41:00 pc-0412 kernel: usb 1-6: USB disconnect, device number 10",
        ],
        [  # the log starts after the new boot's first lines: the uptime stamp goes back
            "Nov 26 16:05:30 pc-0412 kernel: [25405.337912] usb 1-6: new high-speed USB device"
            " number 10 using xhci_hcd",
            "Nov 26 16:05:30 pc-0412 kernel: [25405.489054] usb 1-6: New USB device found,"
            " idVendor=2717, idProduct=ff40, bcdDevice= 4.14",
            "Nov 26 17:41:00 pc-0412 kernel: [   60.551029] usb 1-6: USB disconnect,"
            " device number 10",
        ],
    ],
)
def test_it_notices_a_reboot_in_a_text_log(tmp_path: Path, lines: list[str]) -> None:
    (tmp_path / "kern.log").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    (event,) = read_media_history(None, no_journal, tmp_path).events
    assert (event.vendor_id, event.last_seen) == ("2717", None)


# --- history from log files -------------------------------------------------------------


@pytest.fixture
def shanghai_time() -> Iterator[None]:
    """Classic syslog stamps are local time; pin the zone the fixtures were written in."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def no_journal(argv: Sequence[str], timeout: float = 10.0) -> str:
    raise CommandError(argv, "command not found")


def copy_var_log(tmp_path: Path, modified: dict[str, dt.datetime]) -> Path:
    """The classic kern.log fixture with each file's mtime as logrotate would leave it."""
    log_dir = tmp_path / "var" / "log"
    log_dir.mkdir(parents=True)
    for name, when in modified.items():
        shutil.copyfile(FIXTURES / "varlog_classic" / name, log_dir / name)
        os.utime(log_dir / name, (when.timestamp(), when.timestamp()))
    return log_dir


CLASSIC_MTIMES = {
    "kern.log.2.gz": cst(2026, 12, 31, 10, 16),
    "kern.log.1": cst(2027, 1, 1, 8, 31, 8),
    "kern.log": cst(2027, 1, 1, 9, 13),
}


@pytest.mark.usefixtures("shanghai_time")
@pytest.mark.parametrize("journal_answer", ["fails", "empty"])
def test_it_falls_back_to_kern_log_and_infers_the_year_across_new_year(
    tmp_path: Path, journal_answer: str
) -> None:
    def empty_journal(argv: Sequence[str], timeout: float = 10.0) -> str:
        return ""

    run = no_journal if journal_answer == "fails" else empty_journal
    history = read_media_history(None, run, copy_var_log(tmp_path, CLASSIC_MTIMES))
    assert (history.source, history.error) == ("kern.log", "")
    assert [brief(event) for event in history.events] == [
        ("1-3", "05e3", "0608", "", UsbClass.HUB, cst(2026, 12, 31, 8, 58, 7), None),
        ("1-3.1", "046d", "c31c", "", UsbClass.HID, cst(2026, 12, 31, 8, 58, 7), None),
        (
            "1-1", "0781", "5567", "4C530001230521112345", UsbClass.MASS_STORAGE,
            cst(2026, 12, 31, 9, 30, 3), cst(2026, 12, 31, 10, 2, 8),
        ),
        (
            "1-2", "058f", "6387", "", UsbClass.MASS_STORAGE,
            cst(2026, 12, 31, 9, 30, 3), cst(2026, 12, 31, 9, 41, 48),
        ),
        # connected in kern.log.2.gz, disconnected in kern.log.1
        (
            "1-1", "058f", "6387", "", UsbClass.MASS_STORAGE,
            cst(2026, 12, 31, 10, 15, 18), cst(2026, 12, 31, 10, 20, 42),
        ),
        (
            "1-4", "05ac", "12a8", "00008030001A2B3C4D5E802E", UsbClass.PHONE_OR_CAMERA,
            cst(2026, 12, 31, 14, 40, 9), cst(2026, 12, 31, 15, 4, 59),
        ),
        (
            "1-5", "18d1", "4ee3", "1A021FDF600B3G", UsbClass.NETWORK,
            cst(2026, 12, 31, 15, 20, 37), cst(2026, 12, 31, 15, 50, 10),
        ),
        ("1-6", "2717", "ff40", "d3b4c6e1", UsbClass.OTHER, cst(2026, 12, 31, 16, 1, 27), None),
        ("1-3", "05e3", "0608", "", UsbClass.HUB, cst(2027, 1, 1, 8, 31, 7), None),
        ("1-3.1", "046d", "c31c", "", UsbClass.HID, cst(2027, 1, 1, 8, 31, 7), None),
        (
            "2-1", "04e8", "4001", "S6XJNS0T812345A", UsbClass.MASS_STORAGE,
            cst(2027, 1, 1, 9, 12, 41), None,
        ),
    ]  # fmt: skip
    assert {event.source for event in history.events} == {"kern.log"}


@pytest.mark.usefixtures("shanghai_time")
def test_it_filters_log_file_history_by_since(tmp_path: Path) -> None:
    log_dir = copy_var_log(tmp_path, CLASSIC_MTIMES)
    history = read_media_history(cst(2027, 1, 1, 0, 0), no_journal, log_dir)
    assert [event.bus_path for event in history.events] == ["1-3", "1-3.1", "2-1"]


@pytest.mark.usefixtures("shanghai_time")
def test_it_dates_a_december_log_read_in_january_to_the_old_year(tmp_path: Path) -> None:
    log_dir = copy_var_log(tmp_path, {"kern.log.2.gz": cst(2027, 1, 3, 7, 0)})
    times = {event.time for event in read_media_history(None, no_journal, log_dir).events}
    assert times and all(moment is not None and moment.year == 2026 for moment in times)


def test_it_reads_rsyslog_rfc3339_lines_from_syslog_when_there_is_no_kern_log(
    tmp_path: Path,
) -> None:
    shutil.copyfile(FIXTURES / "varlog_rfc3339" / "syslog", tmp_path / "syslog")
    history = read_media_history(None, no_journal, tmp_path)
    assert (history.source, history.error) == ("syslog", "")
    # the usbguard-daemon line that looks like a kernel line is not the kernel's
    assert [brief(event) for event in history.events] == [
        (
            "1-1", "0781", "5567", "4C530001230521112345", UsbClass.MASS_STORAGE,
            cst(2026, 11, 27, 10, 15, 20, 402118), cst(2026, 11, 27, 10, 42, 17, 118402),
        ),
        (
            "1-5", "18d1", "4ee3", "1A021FDF600B3G", UsbClass.NETWORK,
            cst(2026, 11, 27, 11, 3, 40, 512004), None,
        ),
    ]  # fmt: skip


@pytest.mark.usefixtures("shanghai_time")
def test_it_reads_kern_log_rather_than_repeating_syslog(tmp_path: Path) -> None:
    log_dir = copy_var_log(tmp_path, CLASSIC_MTIMES)
    shutil.copyfile(FIXTURES / "varlog_rfc3339" / "syslog", log_dir / "syslog")
    history = read_media_history(None, no_journal, log_dir)
    assert history.source == "kern.log"
    assert len(history.events) == 11


def test_it_says_why_when_neither_the_journal_nor_log_files_can_be_read(tmp_path: Path) -> None:
    history = read_media_history(None, no_journal, tmp_path)
    assert (history.events, history.source) == ((), "")
    assert history.error == (
        "journal: journalctl _TRANSPORT=kernel -o json --no-pager: command not found; "
        f"log files: none of kern.log*, syslog*, messages* in {tmp_path}"
    )


def test_it_names_an_unreadable_log_file_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "kern.log.1.gz").write_bytes(b"not gzip at all")
    history = read_media_history(None, no_journal, tmp_path)
    assert history.source == ""
    assert f"{tmp_path / 'kern.log.1.gz'}: BadGzipFile" in history.error

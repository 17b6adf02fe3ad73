"""The macOS adapter against recorded-format output of two Macs (see fixtures/macos/README.md).

`ventura`: an Intel MacBook Pro (T2) on macOS 13.6 with a SanDisk stick, a stick without a
serial behind a hub, an iPhone tethering over USB while Wi-Fi is also up.
`sonoma`: an Apple-silicon MacBook Air on macOS 14.4 with a SanDisk stick, a cheap stick
without a serial and an iPhone behind a USB-C hub, Wi-Fi plus a full-tunnel VPN on utun4.
"""

from __future__ import annotations

import datetime as dt
import logging
import plistlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from agent.errors import CollectorError, CommandError
from agent.facts import (
    InterfaceKind,
    MediaEvent,
    Route,
    Service,
    Software,
    StorageDevice,
    UsbClass,
    UsbDevice,
)
from agent.platforms.base import InterfaceInfo, MediaHistory, OsRelease, PlatformAdapter
from agent.platforms.macos import MacOSAdapter

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "macos"
ROOT = FIXTURES / "root"

Argv = tuple[str, ...]
IOREG: Argv = ("/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice")
SW_VERS: Argv = ("/usr/bin/sw_vers",)
UNAME: Argv = ("/usr/bin/uname", "-r")
HOSTNAME: Argv = ("/usr/sbin/scutil", "--get", "HostName")
DISKS: Argv = ("/usr/sbin/system_profiler", "SPNVMeDataType", "SPSerialATADataType", "-json")
LAUNCHCTL: Argv = ("/bin/launchctl", "list")
USB_LEGACY: Argv = ("/usr/sbin/system_profiler", "SPUSBDataType", "-json")
USB_HOST: Argv = ("/usr/sbin/system_profiler", "SPUSBHostDataType", "-json")
PORTS: Argv = ("/usr/sbin/networksetup", "-listallhardwareports")
IFCONFIG: Argv = ("/sbin/ifconfig", "-l")
NETSTAT: Argv = ("/usr/sbin/netstat", "-rn")
SCUTIL_DNS: Argv = ("/usr/sbin/scutil", "--dns")
ARP: Argv = ("/usr/sbin/arp", "-an")
NDP: Argv = ("/usr/sbin/ndp", "-an")
LOG_SHOW: Argv = (
    "/usr/bin/log",
    "show",
    "--style",
    "ndjson",
    "--predicate",
    'process == "kernel" AND eventMessage CONTAINS "USBMSC Identifier"',
)

RECORDED = {
    IOREG: "ioreg-IOPlatformExpertDevice.txt",
    SW_VERS: "sw_vers.txt",
    UNAME: "uname-r.txt",
    HOSTNAME: "scutil-get-HostName.txt",
    DISKS: "system_profiler-SPNVMeDataType-SPSerialATADataType.json",
    LAUNCHCTL: "launchctl-list.txt",
    USB_LEGACY: "system_profiler-SPUSBDataType.json",
    USB_HOST: "system_profiler-SPUSBHostDataType.json",
    PORTS: "networksetup-listallhardwareports.txt",
    IFCONFIG: "ifconfig-l.txt",
    NETSTAT: "netstat-rn.txt",
    SCUTIL_DNS: "scutil-dns.txt",
    ARP: "arp-an.txt",
    NDP: "ndp-an.txt",
}
LOG_RECORDING = "log-show-usbmsc.ndjson"
CST = dt.timezone(dt.timedelta(hours=8))


class RecordedMac:
    """A CommandRunner replaying one Mac's files; an argv it has no answer for fails the test."""

    def __init__(self, machine: str, replace: Mapping[Argv, str | CommandError] | None = None):
        self.folder = FIXTURES / machine
        self.replace = dict(replace or {})
        self.calls: list[tuple[Argv, float]] = []

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        key = tuple(argv)
        self.calls.append((key, timeout))
        if key in self.replace:
            answer = self.replace[key]
            if isinstance(answer, CommandError):
                raise answer
            return answer
        name = LOG_RECORDING if key[: len(LOG_SHOW)] == LOG_SHOW else RECORDED.get(key)
        if name is None or not (self.folder / name).is_file():
            pytest.fail(f"the adapter ran a command this Mac has no recording of: {key}")
        return (self.folder / name).read_text(encoding="utf-8")

    def argvs(self) -> list[Argv]:
        return [argv for argv, _ in self.calls]


def failing(argv: Argv, reason: str = "exit status 1: failed") -> CommandError:
    return CommandError(argv, reason)


def ventura(replace: Mapping[Argv, str | CommandError] | None = None) -> RecordedMac:
    # HostName is unset on this Mac: scutil answers "HostName: not set" with exit status 1.
    answers: dict[Argv, str | CommandError] = {
        HOSTNAME: failing(HOSTNAME, "exit status 1: HostName: not set")
    }
    answers.update(replace or {})
    return RecordedMac("ventura-13.6-intel", answers)


def sonoma(replace: Mapping[Argv, str | CommandError] | None = None) -> RecordedMac:
    return RecordedMac("sonoma-14.4-arm", replace)


def adapter(run: RecordedMac, root: Path = ROOT) -> MacOSAdapter:
    return MacOSAdapter(root=root, run=run)


# --- the adapter as a whole ----------------------------------------------------------------


def test_it_provides_every_method_of_the_platform_adapter_protocol() -> None:
    members = [name for name in vars(PlatformAdapter) if not name.startswith("_")]
    mac = adapter(sonoma())
    assert mac.name == "macos"
    assert [name for name in members if not callable(getattr(mac, name, None))] == []


def test_it_runs_the_real_command_runner_when_given_none() -> None:
    from agent.platforms.base import run_command

    assert MacOSAdapter()._run is run_command


# --- host ----------------------------------------------------------------------------------


def test_it_reads_the_release_and_darwin_kernel_of_macos_13() -> None:
    assert adapter(ventura()).os_release() == OsRelease("macOS", "13.6.4", "22.6.0")


def test_it_reads_the_release_and_darwin_kernel_of_macos_14() -> None:
    assert adapter(sonoma()).os_release() == OsRelease("macOS", "14.4.1", "23.4.0")


def test_it_keeps_a_rapid_security_response_in_the_version() -> None:
    sw_vers = (
        "ProductName:\t\tmacOS\nProductVersion:\t\t13.4.1\n"
        "ProductVersionExtra:\t(a)\nBuildVersion:\t\t22F770820d\n"
    )
    release = adapter(ventura({SW_VERS: sw_vers})).os_release()
    assert release == OsRelease("macOS", "13.4.1 (a)", "22.6.0")


def test_it_refuses_a_sw_vers_without_a_version() -> None:
    with pytest.raises(CollectorError, match="ProductVersion"):
        adapter(ventura({SW_VERS: ""})).os_release()


def test_it_identifies_an_intel_mac_by_its_hardware_uuid() -> None:
    assert adapter(ventura()).machine_id() == "8E3B5F2A-41C7-5D09-9A6E-2F1B7C3D4E58"


def test_it_identifies_an_apple_silicon_mac_by_its_hardware_uuid() -> None:
    assert adapter(sonoma()).machine_id() == "2F9C4D1A-7B3E-5A60-8C4D-E1F20A3B5C7D"


def test_it_fails_when_ioreg_shows_no_platform_uuid() -> None:
    ioreg = (
        '+-o J413AP  <class IOPlatformExpertDevice>\n    {\n      "model" = <"Mac14,2">\n    }\n'
    )
    with pytest.raises(CollectorError, match="IOPlatformUUID"):
        adapter(sonoma({IOREG: ioreg})).machine_id()


def test_it_takes_the_fqdn_from_the_configured_host_name() -> None:
    assert adapter(sonoma()).fqdn("bj-it-0417") == "bj-it-0417.corp.example.cn"


def test_it_keeps_the_host_name_when_no_host_name_is_configured() -> None:
    run = ventura()
    assert adapter(run).fqdn("Zhangs-MacBook-Pro") == "Zhangs-MacBook-Pro"
    assert run.argvs() == [HOSTNAME]


def test_it_keeps_a_dotted_host_name_without_asking_scutil() -> None:
    run = sonoma()
    assert adapter(run).fqdn("mac-17.lan") == "mac-17.lan"
    assert run.calls == []


def test_it_lists_the_serial_of_the_internal_disk_of_each_mac() -> None:
    assert adapter(ventura()).disk_serials() == ("C02943100GTKXJ11R",)
    assert adapter(sonoma()).disk_serials() == ("0ba02a4c81f34623",)


def test_it_leaves_detachable_drives_out_of_the_disk_serials() -> None:
    report = """{
      "SPNVMeDataType" : [ { "_items" : [
          { "_name" : "APPLE SSD AP0256Z", "detachable_drive" : "no",
            "device_serial" : "0ba02a4c81f34623" },
          { "_name" : "Samsung SSD 990 PRO 2TB", "detachable_drive" : "yes",
            "device_serial" : "S6Z2NJ0W123456T" } ], "_name" : "Generic SSD Controller" } ],
      "SPSerialATADataType" : [ { "_items" : [
          { "_name" : "APPLE HDD ST1000DM003", "device_serial" : "      Z1D5K2LM" } ],
          "_name" : "Intel 7 Series Chipset" } ]
    }"""
    serials = adapter(sonoma({DISKS: report})).disk_serials()
    assert serials == ("0ba02a4c81f34623", "Z1D5K2LM")


def test_it_lists_no_disk_serials_when_no_disk_is_reported() -> None:
    report = '{\n  "SPNVMeDataType" : [\n\n  ],\n  "SPSerialATADataType" : [\n\n  ]\n}\n'
    assert adapter(sonoma({DISKS: report})).disk_serials() == ()


def test_it_refuses_a_system_profiler_answer_that_is_not_json() -> None:
    with pytest.raises(CollectorError, match="not JSON"):
        adapter(sonoma({DISKS: "system_profiler[812:9941] SPNVMe: failed"})).disk_serials()


# --- installed software --------------------------------------------------------------------


def app(name: str, version: str, publisher: str) -> Software:
    return Software(name=name, version=version, publisher=publisher, source="app")


def test_it_lists_application_bundles_with_name_version_and_publisher() -> None:
    assert adapter(sonoma()).installed_software() == (
        app("Cisco Secure Client", "5.1.2.42", "cisco"),  # /Applications/Cisco/
        app("Microsoft Word", "16.83", "microsoft"),
        app("Safari", "17.4.1", "apple"),
        # No bundle name and no bundle id: folder name, CFBundleVersion, the copyright holder.
        app("Tencent Lemon", "5.1.6", "Tencent"),  # /Applications/Utilities/
        app("WeChat", "3.8.7", "tencent"),  # a binary Info.plist
        app("Telegram", "10.9.1", "keepcoder"),  # /Users/zhangsan/Applications/
    )


def test_the_wechat_fixture_really_is_a_binary_plist() -> None:
    plist = ROOT / "Applications" / "WeChat.app" / "Contents" / "Info.plist"
    assert plist.read_bytes().startswith(b"bplist00")


def test_it_leaves_the_applications_of_the_os_out() -> None:
    assert (ROOT / "System" / "Applications" / "Calculator.app").is_dir()
    names = [software.name for software in adapter(sonoma()).installed_software()]
    assert "Calculator" not in names


def test_it_skips_a_broken_plist_and_names_its_path(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agent.platforms.macos.apps"):
        software = adapter(sonoma()).installed_software()
    assert len(software) == 6
    assert [record.getMessage() for record in caplog.records] == [
        f"skipping application {ROOT / 'Applications' / 'Broken.app'}: Info.plist unreadable "
        "(no element found: line 2, column 61)"
    ]


def test_it_lists_no_software_on_a_disk_without_applications(tmp_path: Path) -> None:
    assert adapter(sonoma(), root=tmp_path).installed_software() == ()


def test_it_lists_a_single_application_with_a_numeric_version(tmp_path: Path) -> None:
    contents = tmp_path / "Applications" / "DingTalk.app" / "Contents"
    contents.mkdir(parents=True)
    # Some bundles store the build number as a number, not a string.
    info = {
        "CFBundleName": "DingTalk",
        "CFBundleIdentifier": "com.alibaba.DingTalk",
        "CFBundleVersion": 7,
    }
    (contents / "Info.plist").write_bytes(plistlib.dumps(info))
    assert adapter(sonoma(), root=tmp_path).installed_software() == (
        app("DingTalk", "7", "alibaba"),
    )


def test_it_skips_a_bundle_without_an_info_plist(tmp_path: Path) -> None:
    (tmp_path / "Applications" / "Empty.app" / "Contents").mkdir(parents=True)
    assert adapter(sonoma(), root=tmp_path).installed_software() == ()


# --- services ------------------------------------------------------------------------------


def job(label: str, state: str, pid: str, status: str) -> Service:
    return Service(
        name=label,
        display_name=label,
        state=state,
        start_mode="",
        source="launchd",
        raw_state=f"PID={pid} Status={status}",
    )


def test_it_lists_launchd_jobs_with_their_state() -> None:
    assert adapter(ventura()).services() == (
        job("com.apple.SafariHistoryServiceAgent", "stopped", "-", "0"),
        job("com.apple.periodic-daily", "stopped", "-", "0"),
        job("com.apple.logd", "running", "98", "0"),
        job("com.apple.mDNSResponder", "running", "412", "0"),
        job("com.apple.ReportCrash.Root", "failed", "-", "-9"),  # ended by SIGKILL
        job("com.apple.usbmuxd", "running", "631", "0"),
        job("com.microsoft.autoupdate.helper", "stopped", "-", "0"),
        job("com.sangfor.EDRAgent", "running", "1287", "0"),
        job("com.sangfor.EDRAgent.updater", "failed", "-", "78"),
        job("com.cisco.secureclient.vpnagentd", "running", "2043", "0"),
    )


def test_it_lists_no_services_when_launchctl_prints_only_its_header() -> None:
    assert adapter(sonoma({LAUNCHCTL: "PID\tStatus\tLabel\n"})).services() == ()


def test_it_lists_a_single_job() -> None:
    listing = "PID\tStatus\tLabel\n1544\t0\tcom.qianxin.tianqing.daemon\n"
    assert adapter(sonoma({LAUNCHCTL: listing})).services() == (
        job("com.qianxin.tianqing.daemon", "running", "1544", "0"),
    )


def test_a_failing_launchctl_raises_command_error() -> None:
    with pytest.raises(CommandError, match="launchctl list: exit status 1"):
        adapter(sonoma({LAUNCHCTL: failing(LAUNCHCTL)})).services()


# --- USB devices and removable storage ------------------------------------------------------


def usb(
    bus_path: str,
    ids: str,
    serial: str,
    manufacturer: str,
    product: str,
    usb_class: UsbClass,
) -> UsbDevice:
    vendor_id, product_id = ids.split(":")
    return UsbDevice(bus_path, vendor_id, product_id, serial, manufacturer, product, usb_class)


VENTURA_SANDISK = usb(
    "0x00100000",
    "0781:5567",
    "4C530001230321117362",
    "SanDisk",
    "Cruzer Blade",
    UsbClass.MASS_STORAGE,
)
VENTURA_NO_SERIAL = usb(
    "0x01140000",
    "090c:1000",
    "",
    "Silicon Motion, Inc. - Taiwan (formerly Feiya Technology Corp.)",  # from vendor_id
    "USB DISK 2.0",
    UsbClass.MASS_STORAGE,
)
SONOMA_IPHONE = usb(
    "0x02120000",
    "05ac:12a8",
    "00008101000E15C83A88001E",
    "Apple Inc.",
    "iPhone",
    UsbClass.PHONE_OR_CAMERA,
)
SONOMA_SANDISK_SERIAL = "0401a8f2c1d7e3b95a604c6f18e2d7b3a1c9f05e4b8d"


def test_it_lists_the_usb_devices_of_macos_13() -> None:
    apple = "Apple Inc."
    assert adapter(ventura()).usb_devices() == (
        VENTURA_SANDISK,
        usb("0x01100000", "05e3:0610", "", "GenesysLogic", "USB2.0 Hub", UsbClass.HUB),
        VENTURA_NO_SERIAL,
        usb(
            "0x02100000",
            "05ac:12a8",  # vendor_id is the literal "apple_vendor_id" in this report
            "00008110001A2C3E0C2B802E",
            apple,
            "iPhone",
            UsbClass.PHONE_OR_CAMERA,
        ),
        usb(
            "0x80600000",
            "05ac:8302",
            "D3H0221A4Q1LPR6AN",
            apple,
            "Touch Bar Display",
            UsbClass.OTHER,
        ),
        usb(
            "0x80500000",
            "05ac:0340",
            "FM7037300N1HVJWAS+WDX",
            apple,
            "Apple Internal Keyboard / Trackpad",
            UsbClass.HID,
        ),
        usb(
            "0x80200000",
            "05ac:8514",
            "CC2938301Q6J1HHAQ",
            apple,
            "FaceTime HD Camera (Built-in)",
            UsbClass.OTHER,
        ),
        usb(
            "0x80100000",
            "05ac:8233",
            "D3H0221A4Q1LPR6AN",
            apple,
            "Apple T2 Controller",
            UsbClass.OTHER,
        ),
    )


def test_it_lists_the_usb_devices_of_macos_14() -> None:
    run = sonoma()
    assert adapter(run).usb_devices() == (
        usb(
            "0x01100000",
            "0781:5581",
            SONOMA_SANDISK_SERIAL,
            "USB",  # what SanDisk's firmware reports, padding trimmed
            "SanDisk 3.2Gen1",
            UsbClass.MASS_STORAGE,
        ),
        usb("0x02100000", "2109:2817", "", "VIA Labs, Inc.", "USB2.1 Hub", UsbClass.HUB),
        usb("0x02110000", "058f:6387", "", "Generic", "Mass Storage", UsbClass.MASS_STORAGE),
        SONOMA_IPHONE,
    )
    # The older report still lists buses on macOS 14, so the host report is not needed.
    assert run.calls == [(USB_LEGACY, 60.0)]


def test_it_reports_a_stick_without_serial() -> None:
    devices = adapter(ventura()).usb_devices()
    assert VENTURA_NO_SERIAL in devices
    assert not VENTURA_NO_SERIAL.has_serial


def test_it_classifies_an_iphone_as_a_phone() -> None:
    assert SONOMA_IPHONE in adapter(sonoma()).usb_devices()


def test_it_lists_the_removable_storage_of_macos_13() -> None:
    assert adapter(ventura()).removable_storage() == (
        StorageDevice(
            device="/dev/disk4",
            vendor_id="0781",
            product_id="5567",
            serial="4C530001230321117362",
            vendor="SanDisk",
            model="Cruzer Blade",
            size_bytes=15631122432,
            removable=True,
            bus="usb",
            mounts=("/Volumes/SANDISK",),
            labels=("SANDISK",),
            filesystems=("MS-DOS FAT32",),
            bus_path="0x00100000",
        ),
        StorageDevice(
            device="/dev/disk5",
            vendor_id="090c",
            product_id="1000",
            serial="",
            vendor="Silicon Motion, Inc. - Taiwan (formerly Feiya Technology Corp.)",
            model="USB DISK 2.0",
            size_bytes=8053063680,
            removable=True,
            bus="usb",
            mounts=("/Volumes/资料盘",),
            labels=("资料盘",),
            filesystems=("MS-DOS FAT32",),
            bus_path="0x01140000",
        ),
    )


def test_it_lists_the_removable_storage_of_macos_14() -> None:
    assert adapter(sonoma()).removable_storage() == (
        StorageDevice(
            device="/dev/disk4",
            vendor_id="0781",
            product_id="5581",
            serial=SONOMA_SANDISK_SERIAL,
            vendor="USB",
            model="SanDisk 3.2Gen1",
            size_bytes=61538828288,
            removable=True,
            bus="usb",
            mounts=("/Volumes/UNTITLED",),
            labels=("UNTITLED",),
            filesystems=("ExFAT",),
            bus_path="0x01100000",
        ),
        StorageDevice(
            device="/dev/disk5",
            vendor_id="058f",
            product_id="6387",
            serial="",
            vendor="Generic",
            model="Mass Storage",
            size_bytes=4026531840,
            removable=True,
            bus="usb",
            mounts=("/Volumes/NO NAME",),
            labels=("NO NAME",),
            filesystems=("MS-DOS FAT32",),
            bus_path="0x02110000",
        ),
    )


def test_it_labels_no_unnamed_volume_and_lists_an_unmounted_disk_without_mounts() -> None:
    report = """{ "SPUSBDataType" : [ { "_items" : [ {
        "_name" : "Extreme SSD", "location_id" : "0x02320000 / 8", "manufacturer" : "SanDisk",
        "product_id" : "0x558c", "serial_num" : "31393430584D343031373837",
        "vendor_id" : "0x0781  (SanDisk Corporation)",
        "Media" : [ { "_name" : "Extreme SSD", "bsd_name" : "disk2", "removable_media" : "no",
          "size_in_bytes" : 1000204140544,
          "volumes" : [
            { "_name" : "EFI", "bsd_name" : "disk2s1", "file_system" : "MS-DOS FAT32" },
            { "_name" : "disk2s2", "bsd_name" : "disk2s2", "iocontent" : "Apple_APFS" } ] } ]
      } ], "_name" : "USB31Bus" } ] }"""
    storage = adapter(sonoma({USB_LEGACY: report})).removable_storage()
    assert storage == (
        StorageDevice(
            device="/dev/disk2",
            vendor_id="0781",
            product_id="558c",
            serial="31393430584D343031373837",
            vendor="SanDisk",
            model="Extreme SSD",
            size_bytes=1000204140544,
            removable=False,
            bus="usb",
            mounts=(),
            labels=("EFI",),
            filesystems=("MS-DOS FAT32",),
            bus_path="0x02320000",
        ),
    )


def test_it_lists_no_usb_devices_or_storage_on_an_empty_bus() -> None:
    report = '{\n  "SPUSBDataType" : [\n    {\n      "_name" : "USB31Bus"\n    }\n  ]\n}\n'
    mac = adapter(sonoma({USB_LEGACY: report}))
    assert mac.usb_devices() == ()
    assert mac.removable_storage() == ()


def empty_legacy_report() -> str:
    return (FIXTURES / "system_profiler-SPUSBDataType-empty.json").read_text(encoding="utf-8")


def test_it_falls_back_to_the_usb_host_report_when_the_older_one_is_empty() -> None:
    run = sonoma({USB_LEGACY: empty_legacy_report()})
    assert adapter(run).usb_devices() == (
        # Without Media the stick cannot be told from any other device.
        usb(
            "0x01100000",
            "0781:5581",
            SONOMA_SANDISK_SERIAL,
            "USB",
            "SanDisk 3.2Gen1",
            UsbClass.OTHER,
        ),
        usb("0x02100000", "2109:2817", "", "VIA Labs, Inc.", "USB2.1 Hub", UsbClass.HUB),
        # "Not Provided" is the host report's way of saying there is no serial.
        usb("0x02110000", "058f:6387", "", "Generic", "Mass Storage", UsbClass.OTHER),
        SONOMA_IPHONE,
    )
    assert run.argvs() == [USB_LEGACY, USB_HOST]


def test_it_falls_back_to_the_usb_host_report_when_the_older_one_fails() -> None:
    devices = adapter(sonoma({USB_LEGACY: failing(USB_LEGACY)})).usb_devices()
    assert [device.product for device in devices] == [
        "SanDisk 3.2Gen1",
        "USB2.1 Hub",
        "Mass Storage",
        "iPhone",
    ]


def test_it_refuses_to_guess_removable_storage_from_the_usb_host_report() -> None:
    mac = adapter(sonoma({USB_LEGACY: empty_legacy_report()}))
    with pytest.raises(CollectorError, match="does not link USB devices to their disks"):
        mac.removable_storage()


def test_it_accepts_an_empty_older_report_when_the_host_report_is_unknown() -> None:
    run = sonoma({USB_LEGACY: empty_legacy_report(), USB_HOST: failing(USB_HOST)})
    assert adapter(run).usb_devices() == ()
    assert adapter(run).removable_storage() == ()


def test_it_knows_there_is_no_usb_storage_when_the_host_report_lists_no_device() -> None:
    host = (
        '{ "SPUSBHostDataType" : [ { "_name" : "USB 3.1 Bus", "Driver" : "AppleT8112USBXHCI" } ] }'
    )
    mac = adapter(sonoma({USB_LEGACY: empty_legacy_report(), USB_HOST: host}))
    assert mac.usb_devices() == ()
    assert mac.removable_storage() == ()


def test_it_raises_when_neither_usb_report_can_be_read() -> None:
    run = sonoma({USB_LEGACY: failing(USB_LEGACY), USB_HOST: failing(USB_HOST)})
    with pytest.raises(CommandError, match="SPUSBHostDataType"):
        adapter(run).usb_devices()


def test_it_raises_when_system_profiler_knows_neither_usb_report() -> None:
    run = sonoma({USB_LEGACY: "{\n\n}\n", USB_HOST: "{\n\n}\n"})
    with pytest.raises(CollectorError, match="neither SPUSBDataType nor SPUSBHostDataType"):
        adapter(run).usb_devices()


def test_it_classifies_android_phones_hubs_and_network_adapters_by_name_and_vendor() -> None:
    report = """{ "SPUSBHostDataType" : [ { "_items" : [
        { "_name" : "Android", "USBDeviceKeyVendorID" : "0x05c6",
          "USBDeviceKeyProductID" : "0x9091", "USBDeviceKeyVendorName" : "Android" },
        { "_name" : "Redmi Note 12", "USBDeviceKeyVendorID" : "0x2717",
          "USBDeviceKeyProductID" : "0xff48", "USBDeviceKeyVendorName" : "Xiaomi" },
        { "_name" : "MTP Device", "USBDeviceKeyVendorID" : "0x12d1",
          "USBDeviceKeyProductID" : "0x107e", "USBDeviceKeyVendorName" : "HUAWEI" },
        { "_name" : "USB 10/100/1000 LAN", "USBDeviceKeyVendorID" : "0x0bda",
          "USBDeviceKeyProductID" : "0x8153", "USBDeviceKeyVendorName" : "Realtek" },
        { "_name" : "USB Receiver", "USBDeviceKeyVendorID" : "0x046d",
          "USBDeviceKeyProductID" : "0xc52b", "USBDeviceKeyVendorName" : "Logitech" }
      ], "_name" : "USB 3.1 Bus" } ] }"""
    run = sonoma({USB_LEGACY: failing(USB_LEGACY), USB_HOST: report})
    classes = [device.usb_class for device in adapter(run).usb_devices()]
    assert classes == [
        UsbClass.PHONE_OR_CAMERA,
        UsbClass.PHONE_OR_CAMERA,
        UsbClass.PHONE_OR_CAMERA,
        UsbClass.NETWORK,
        UsbClass.OTHER,
    ]


# --- removable-media history ---------------------------------------------------------------


def msc(time: dt.datetime, ids: str, serial: str) -> MediaEvent:
    vendor_id, product_id = ids.split(":")
    return MediaEvent(
        time=time,
        vendor_id=vendor_id,
        product_id=product_id,
        serial=serial,
        product="",
        manufacturer="",
        usb_class=UsbClass.MASS_STORAGE,
        source="unified-log",
    )


def test_it_reads_usb_storage_history_from_the_unified_log() -> None:
    run = ventura()
    history = adapter(run).media_history(None)
    sandisk = "4C530001230321117362"
    assert history == MediaHistory(
        events=(
            msc(dt.datetime(2024, 3, 4, 16, 2, 11, 804512, CST), "0781:5567", sandisk),
            msc(dt.datetime(2024, 3, 11, 9, 14, 3, 412345, CST), "0781:5567", sandisk),
            msc(dt.datetime(2024, 3, 11, 10, 27, 45, 90871, CST), "090c:1000", ""),
        ),
        source="unified-log",
    )
    assert run.calls == [(LOG_SHOW, 180.0)]


def test_it_asks_the_log_only_since_the_last_check_and_drops_older_entries() -> None:
    run = ventura()
    since = dt.datetime(2024, 3, 10, 0, 0, tzinfo=dt.timezone.utc)
    history = adapter(run).media_history(since)
    assert [event.time for event in history.events] == [
        dt.datetime(2024, 3, 11, 9, 14, 3, 412345, CST),
        dt.datetime(2024, 3, 11, 10, 27, 45, 90871, CST),
    ]
    assert run.argvs() == [(*LOG_SHOW, "--start", "2024-03-10 00:00:00+00:00")]


def test_it_passes_the_start_in_utc_whatever_the_offset_of_since() -> None:
    run = sonoma()
    adapter(run).media_history(dt.datetime(2024, 4, 2, 8, 0, tzinfo=CST))
    assert run.argvs() == [(*LOG_SHOW, "--start", "2024-04-02 00:00:00+00:00")]


def test_it_reports_a_stick_without_serial_in_the_history() -> None:
    history = adapter(sonoma()).media_history(None)
    assert history.events[-1] == msc(
        dt.datetime(2024, 4, 2, 15, 5, 9, 644021, CST), "058f:6387", ""
    )
    assert len(history.events) == 2


def test_it_reports_an_unreadable_log_as_a_history_error() -> None:
    error = failing(LOG_SHOW, "timed out after 180 s")
    history = adapter(sonoma({LOG_SHOW: error})).media_history(None)
    assert history.events == ()
    assert history.source == ""
    assert history.error == f"unified log not readable: {error}"


def test_it_reports_an_empty_history_when_the_log_has_no_usb_storage_line() -> None:
    history = adapter(sonoma({LOG_SHOW: '{"count":0,"finished":1}\n'})).media_history(None)
    assert history == MediaHistory(events=(), source="unified-log", error="")


def test_it_skips_the_banner_damaged_lines_and_other_kernel_messages() -> None:
    output = "\n".join(
        [
            'Filtering the log data using "process == \\"kernel\\""',
            '{"eventMessage":"USBMSC Identifier (non-unique): 00',  # cut off
            '{"eventMessage":"hfs: mounted SANDISK on device disk4s1",'
            '"timestamp":"2024-04-02 14:36:53.001000+0800"}',
            '{"eventMessage":"USBMSC Identifier (non-unique): AA01 0x781 0x5581 0x100, 2",'
            '"timestamp":"2024-04-02 14:36:52+0800"}',
            '{"count":4,"finished":1}',
        ]
    )
    history = adapter(sonoma({LOG_SHOW: output})).media_history(None)
    assert history.events == (
        msc(dt.datetime(2024, 4, 2, 14, 36, 52, 0, CST), "0781:5581", "AA01"),
    )


# --- network -------------------------------------------------------------------------------


def port(kind: InterfaceKind, description: str) -> InterfaceInfo:
    return InterfaceInfo(kind=kind, description=description)


LOOPBACK = port(InterfaceKind.LOOPBACK, "loopback")
TUNNEL = port(InterfaceKind.VIRTUAL, "tunnel or fake Ethernet")
VPN = port(InterfaceKind.VPN, "tunnel")
HOTSPOT = port(InterfaceKind.VIRTUAL, "Wi-Fi access point (Internet Sharing)")
AWDL = port(InterfaceKind.VIRTUAL, "Apple Wireless Direct Link (AirDrop)")
LLW = port(InterfaceKind.VIRTUAL, "low-latency Wi-Fi link")
WIFI = port(InterfaceKind.WIRELESS, "Wi-Fi")
TB_BRIDGE = port(InterfaceKind.VIRTUAL, "Thunderbolt Bridge")


def test_it_classifies_the_interfaces_of_a_mac_tethered_to_an_iphone() -> None:
    assert adapter(ventura()).interface_info() == {
        "lo0": LOOPBACK,
        "gif0": TUNNEL,
        "stf0": TUNNEL,
        "en5": InterfaceInfo(kind=InterfaceKind.OTHER),  # the T2 chip's internal link
        "ap1": HOTSPOT,
        "en0": WIFI,
        "awdl0": AWDL,
        "llw0": LLW,
        "en1": port(InterfaceKind.WIRED, "Thunderbolt 1"),
        "en2": port(InterfaceKind.WIRED, "Thunderbolt 2"),
        "en3": port(InterfaceKind.WIRED, "Thunderbolt 3"),
        "en4": port(InterfaceKind.WIRED, "Thunderbolt 4"),
        "bridge0": TB_BRIDGE,
        "utun0": VPN,
        "utun1": VPN,
        "en7": port(InterfaceKind.USB_TETHER, "iPhone USB"),
    }


def test_it_classifies_the_interfaces_of_a_mac_on_a_vpn() -> None:
    anpi = port(InterfaceKind.VIRTUAL, "Apple network port interface")
    assert adapter(sonoma()).interface_info() == {
        "lo0": LOOPBACK,
        "gif0": TUNNEL,
        "stf0": TUNNEL,
        "anpi0": anpi,
        "anpi1": anpi,
        "en3": port(InterfaceKind.WIRED, "Ethernet Adapter (en3)"),
        "en4": port(InterfaceKind.WIRED, "Ethernet Adapter (en4)"),
        "en1": port(InterfaceKind.WIRED, "Thunderbolt 1"),
        "en2": port(InterfaceKind.WIRED, "Thunderbolt 2"),
        "ap1": HOTSPOT,
        "en0": WIFI,
        "awdl0": AWDL,
        "llw0": LLW,
        "bridge0": TB_BRIDGE,
        "utun0": VPN,
        "utun1": VPN,
        "utun2": VPN,
        "utun3": VPN,
        "en8": port(InterfaceKind.WIRED, "USB 10/100/1000 LAN"),
        "utun4": VPN,
        "vmenet0": port(InterfaceKind.VIRTUAL, "virtual machine network"),
        "bridge100": port(InterfaceKind.VIRTUAL, "bridge (Internet Sharing or virtual machines)"),
    }


def test_it_keeps_a_hardware_port_that_ifconfig_does_not_name() -> None:
    info = adapter(ventura({IFCONFIG: "lo0 en0\n"})).interface_info()
    assert list(info) == ["lo0", "en0", "bridge0", "en1", "en2", "en3", "en4", "en7"]


def test_it_classifies_older_and_bluetooth_ports_and_ppp_links() -> None:
    ports = (
        "\nHardware Port: AirPort\nDevice: en1\nEthernet Address: 00:1f:5b:c2:11:03\n"
        "\nHardware Port: Bluetooth PAN\nDevice: en6\nEthernet Address: 00:1f:5b:c2:11:04\n"
        "\nHardware Port: iPad USB\nDevice: en9\nEthernet Address: 4a:0f:2c:11:90:01\n"
        "\nHardware Port: Bluetooth DUN\nDevice: Bluetooth-Modem\n"
        "\nVLAN Configurations\n===================\n"
    )
    info = adapter(ventura({PORTS: ports, IFCONFIG: "en1 en6 en9 ppp0 en10\n"})).interface_info()
    assert info == {
        "en1": port(InterfaceKind.WIRELESS, "AirPort"),
        "en6": port(InterfaceKind.WIRELESS, "Bluetooth PAN"),
        "en9": port(InterfaceKind.USB_TETHER, "iPad USB"),
        "ppp0": VPN,
        "en10": InterfaceInfo(kind=InterfaceKind.OTHER),
        "Bluetooth-Modem": port(InterfaceKind.OTHER, "Bluetooth DUN"),
    }


def test_it_lists_no_interfaces_when_neither_command_names_any() -> None:
    no_ports = "\nVLAN Configurations\n===================\n"
    assert adapter(sonoma({PORTS: no_ports, IFCONFIG: "\n"})).interface_info() == {}


def v4(destination: str, interface: str, gateway: str = "") -> Route:
    return Route(destination, gateway, interface, 0, "ipv4")


def v6(destination: str, interface: str) -> Route:
    return Route(destination, "", interface, 0, "ipv6")


def test_it_lists_the_routes_of_a_mac_tethered_to_an_iphone() -> None:
    assert adapter(ventura()).routes() == (
        v4("0.0.0.0/0", "en7", "172.20.10.1"),
        v4("0.0.0.0/0", "en0", "192.168.1.1"),  # scoped to en0, through a real router
        v4("169.254.0.0/16", "en7"),
        v4("169.254.0.0/16", "en0"),
        v4("172.20.10.0/28", "en7"),
        v4("172.20.10.1/32", "en7"),
        v4("172.20.10.2/32", "en7"),
        v4("192.168.1.0/24", "en0"),
        v4("192.168.1.1/32", "en0"),
        v4("192.168.1.23/32", "en0"),
        v4("224.0.0.0/4", "en7"),
        v4("224.0.0.0/4", "en0"),
        v4("255.255.255.255/32", "en7"),
        v4("255.255.255.255/32", "en0"),
        *(v6("fe80::/64", iface) for iface in ("en5", "en0", "utun0", "utun1", "en7")),
        *(v6("ff00::/8", iface) for iface in ("en5", "en0", "utun0", "utun1", "en7")),
        v6("ff01::/32", "en0"),
        v6("ff01::/32", "en7"),
        v6("ff02::/32", "en0"),
        v6("ff02::/32", "en7"),
    )


def test_it_lists_the_routes_of_a_mac_on_a_vpn() -> None:
    utuns = ("utun0", "utun1", "utun2", "utun3")
    assert adapter(sonoma()).routes() == (
        v4("0.0.0.0/0", "utun4"),  # the VPN's default: link#20, no gateway address
        v4("0.0.0.0/0", "en0", "192.168.31.1"),
        v4("10.8.0.0/16", "utun4"),
        v4("10.8.0.6/32", "utun4"),
        v4("169.254.0.0/16", "en0"),
        v4("192.168.31.0/24", "en0"),
        v4("192.168.31.1/32", "en0"),
        v4("192.168.31.105/32", "en0"),
        v4("192.168.64.0/24", "bridge100"),
        v4("203.0.113.45/32", "en0", "192.168.31.1"),  # the VPN server, via the Wi-Fi router
        v4("224.0.0.0/4", "utun4"),
        v4("224.0.0.0/4", "en0"),
        v4("255.255.255.255/32", "utun4"),
        v4("255.255.255.255/32", "en0"),
        *(v6("fe80::/64", iface) for iface in ("anpi0", "en0", *utuns)),
        *(v6("ff00::/8", iface) for iface in ("anpi0", "en0", *utuns)),
        v6("ff01::/32", "en0"),
        v6("ff02::/32", "en0"),
    )


@pytest.mark.parametrize(
    ("mac", "expected"),
    [
        (ventura, [("en7", "172.20.10.1"), ("en0", "192.168.1.1")]),
        (sonoma, [("utun4", ""), ("en0", "192.168.31.1")]),
    ],
    ids=["iphone-tethering", "vpn"],
)
def test_it_finds_two_default_routes_but_not_the_system_tunnel_placeholders(
    mac: Callable[[], RecordedMac], expected: list[tuple[str, str]]
) -> None:
    defaults = [route for route in adapter(mac()).routes() if route.is_default]
    assert [(route.interface, route.gateway) for route in defaults] == expected


def test_it_keeps_an_ipv6_default_route_through_a_router_and_strips_its_zone() -> None:
    table = (
        "Routing tables\n\nInternet6:\n"
        "Destination                             Gateway                                 "
        "Flags               Netif Expire\n"
        "default                                 fe80::a691:b1ff:fe2c:7e10%en0           "
        "UGcg                  en0       \n"
        "2408:8207:1851:c3d0::/64                link#6                                  "
        "UC                    en0       \n"
    )
    assert adapter(ventura({NETSTAT: table})).routes() == (
        Route("::/0", "fe80::a691:b1ff:fe2c:7e10", "en0", 0, "ipv6"),
        Route("2408:8207:1851:c3d0::/64", "", "en0", 0, "ipv6"),
    )


def test_it_lists_no_routes_from_an_empty_table() -> None:
    table = "Routing tables\n\nInternet:\nDestination        Gateway            Flags      Netif\n"
    assert adapter(ventura({NETSTAT: table})).routes() == ()


def test_a_failing_netstat_raises_command_error() -> None:
    with pytest.raises(CommandError):
        adapter(ventura({NETSTAT: failing(NETSTAT)})).routes()


def test_it_lists_each_dns_server_once_including_scoped_resolvers() -> None:
    assert adapter(ventura()).dns_servers() == ("172.20.10.1", "192.168.1.1")
    assert adapter(sonoma()).dns_servers() == ("10.8.0.1", "10.8.0.2", "192.168.31.1")


def test_it_lists_no_dns_servers_when_no_resolver_has_one() -> None:
    output = "DNS configuration\n\nresolver #1\n  domain   : local\n  options  : mdns\n"
    assert adapter(sonoma({SCUTIL_DNS: output})).dns_servers() == ()


def test_a_failing_scutil_raises_command_error() -> None:
    with pytest.raises(CommandError):
        adapter(sonoma({SCUTIL_DNS: failing(SCUTIL_DNS)})).dns_servers()

"""The Windows adapter against recorded-format fixtures (tests/fixtures/windows/README.md).

Windows cannot run here; the adapter takes its registry, its command runner and its source of
service records as arguments, so these tests hand it `reg export` files, PowerShell
ConvertTo-Json output and psutil `WindowsService.as_dict()` records.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path, PureWindowsPath
from typing import Any

import psutil
import pytest

from agent.collectors import collect_inventory
from agent.collectors.base import CollectContext
from agent.errors import CollectorError, CommandError
from agent.facts import AssetFields, InterfaceKind, MediaEvent, UsbClass, UsbDevice
from agent.platforms.windows import (
    Bitness,
    RegExportRegistry,
    RegistryAccessDeniedError,
    RegValue,
    WindowsAdapter,
    WinregRegistry,
    parse_reg_export,
)
from agent.platforms.windows.host import DISK_DRIVES
from agent.platforms.windows.neighbours import NET_NEIGHBORS
from agent.platforms.windows.network import DNS_SERVERS, NET_ADAPTERS, NET_ROUTES
from agent.platforms.windows.powershell import POWERSHELL, UTF8_PREFIX
from agent.platforms.windows.regfile import decode_reg_file
from agent.platforms.windows.services import live_service_records, services_from_records
from agent.platforms.windows.storage import DISK_VOLUMES
from agent.platforms.windows.usb import PNP_USB_DEVICES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "windows"
HEADER = "Windows Registry Editor Version 5.00\r\n\r\n"
UTC = dt.timezone.utc

RECORDED_OUTPUT = {
    DISK_DRIVES: "win32_diskdrive.json",
    DISK_VOLUMES: "disk_volumes.json",
    PNP_USB_DEVICES: "pnp_usb_devices.json",
    NET_ADAPTERS: "netadapter.json",
    NET_ROUTES: "netroute.json",
    DNS_SERVERS: "dnsclientserveraddress.json",
    NET_NEIGHBORS: "netneighbor.json",
}


class ReplayRunner:
    """Answers each known PowerShell command with its recorded output; records the calls."""

    def __init__(self, outputs: dict[str, str] | None = None) -> None:
        self.outputs = {
            script: (FIXTURES / name).read_text(encoding="utf-8")
            for script, name in RECORDED_OUTPUT.items()
        }
        self.outputs.update(outputs or {})
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        self.calls.append(tuple(argv))
        assert tuple(argv[:4]) == POWERSHELL
        assert argv[4].startswith(UTF8_PREFIX)
        return self.outputs[argv[4].removeprefix(UTF8_PREFIX)]


def failing_runner(argv: Sequence[str], timeout: float = 10.0) -> str:
    raise CommandError(argv, "exit status 1: Get-CimInstance : Access denied")


def recorded_services() -> list[dict[str, Any]]:
    """What `live_service_records()` returned on the fixture machine (psutil as_dict())."""
    records: list[dict[str, Any]] = json.loads(
        (FIXTURES / "psutil_services.json").read_text(encoding="utf-8")
    )
    return records


@pytest.fixture(scope="module")
def registry() -> RegExportRegistry:
    return RegExportRegistry.from_files(sorted(FIXTURES.glob("*.reg")))


def unloaded_profile_hive(sid: str, hive: PureWindowsPath) -> RegExportRegistry:
    """What a hive parser reads from the NTUSER.DAT of a user who is not logged on."""
    recorded = FIXTURES / "unloaded_profiles" / f"ntuser_{sid}.reg"
    if not recorded.is_file():
        raise CollectorError(f"{hive}: No such file or directory")
    return RegExportRegistry.from_files([recorded])


@pytest.fixture
def adapter(registry: RegExportRegistry) -> WindowsAdapter:
    return WindowsAdapter(
        registry=registry,
        run=ReplayRunner(),
        service_records=recorded_services,
        user_hives=unloaded_profile_hive,
    )


def export(*sections: str) -> str:
    return HEADER + "\r\n".join(sections) + "\r\n"


# --- the .reg parser ---------------------------------------------------------------------


def test_it_decodes_a_utf16_export_with_bom_and_crlf() -> None:
    data = b"\xff\xfe" + export('[HKEY_CURRENT_USER\\Software\\应用]\r\n"名称"="值"').encode(
        "utf-16-le"
    )
    [(path, values)] = parse_reg_export(decode_reg_file(data))
    assert path == "HKEY_CURRENT_USER\\Software\\应用"
    assert values == {"名称": RegValue(1, "值")}


def test_it_unescapes_backslashes_and_quotes_in_names_and_values() -> None:
    text = export(
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]",
        '"Uninstall\\"String"="\\"C:\\\\Program Files\\\\App\\\\uninst.exe\\" /S"',
        '"Dir"="C:\\\\App\\\\"',
    )
    [(_, values)] = parse_reg_export(text)
    assert values['Uninstall"String'].data == '"C:\\Program Files\\App\\uninst.exe" /S'
    assert values["Dir"].data == "C:\\App\\"


def test_it_reads_the_default_value_under_an_empty_name() -> None:
    [(_, values)] = parse_reg_export(export("[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]", '@="default"'))
    assert values == {"": RegValue(1, "default")}


def test_it_decodes_dword_qword_expand_sz_and_multi_sz_like_winreg() -> None:
    text = export(
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]",
        '"Count"=dword:0000001f',
        '"Big"=hex(b):00,f0,b3,c2,a9,e7,d9,01',
        '"Path"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,\\',
        "  00,25,00,00,00",
        '"Ids"=hex(7):41,00,00,00,42,00,43,00,00,00,00,00',
        '"NoIds"=hex(7):00,00',
        '"Blob"=hex:de,ad,be,ef',
        '"Empty"=hex:',
    )
    [(_, values)] = parse_reg_export(text)
    assert values["Count"] == RegValue(4, 31)
    assert values["Big"] == RegValue(11, 0x01D9E7A9C2B3F000)
    assert values["Path"] == RegValue(2, "%SystemRoot%")
    assert values["Ids"] == RegValue(7, ("A", "BC"))
    assert values["NoIds"] == RegValue(7, ())
    assert values["Blob"] == RegValue(3, b"\xde\xad\xbe\xef")
    assert values["Empty"] == RegValue(3, b"")


def test_it_joins_hex_data_continued_over_several_lines() -> None:
    text = export(
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]",
        '"Data"=hex:01,02,\\',
        "  03,04,\\",
        "  05",
        '"After"="still read"',
    )
    [(_, values)] = parse_reg_export(text)
    assert values["Data"].data == bytes([1, 2, 3, 4, 5])
    assert values["After"].data == "still read"


def test_it_keeps_a_line_break_written_inside_a_string() -> None:
    text = export("[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]", '"Note"="line one', 'line two"')
    [(_, values)] = parse_reg_export(text)
    assert values["Note"].data == "line one\nline two"


def test_it_keeps_device_property_types_as_raw_bytes() -> None:
    text = export(
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\X\\Properties\\{83da6326-97a6-4088-9453-a1923f573b29}\\0066]",
        "@=hex(ffff0010):80,5e,8f,1c,4b,d0,da,01",
    )
    [(_, values)] = parse_reg_export(text)
    assert values[""] == RegValue(0xFFFF0010, bytes.fromhex("805e8f1c4bd0da01"))


def test_it_rejects_a_file_that_is_not_a_reg_export() -> None:
    with pytest.raises(CollectorError, match=r"^x\.reg: not a reg export"):
        parse_reg_export("[HKEY_LOCAL_MACHINE\\SOFTWARE]\r\n", "x.reg")


def test_it_names_file_and_line_of_a_broken_value() -> None:
    text = export("[HKEY_LOCAL_MACHINE\\SOFTWARE\\App]", '"Good"="yes"', '"Bad"=dword:12')
    with pytest.raises(CollectorError, match=r"^app\.reg:5: dword needs 8 hex digits"):
        parse_reg_export(text, "app.reg")


def test_several_exports_form_one_registry_with_implicit_parent_keys() -> None:
    registry = RegExportRegistry(
        [
            export("[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\One]", '"V"="1"'),
            export("[HKEY_LOCAL_MACHINE\\SOFTWARE\\B]", '"V"="2"'),
        ]
    )
    assert registry.subkeys("HKLM\\SOFTWARE") == ["A", "B"]
    assert registry.subkeys("HKEY_LOCAL_MACHINE\\software\\a") == ["One"]
    assert registry.values("HKLM\\SOFTWARE\\A\\ONE") == {"V": RegValue(1, "1")}


def test_a_key_that_does_not_exist_reads_as_empty() -> None:
    registry = RegExportRegistry([export("[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]")])
    assert registry.subkeys("HKLM\\SOFTWARE\\Nope") == []
    assert registry.values("HKLM\\SOFTWARE\\Nope") == {}


def test_the_32_bit_view_of_hklm_software_is_wow6432node() -> None:
    registry = RegExportRegistry(
        [
            export(
                "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]",
                '"Bits"="64"',
                "",
                "[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Vendor]",
                '"Bits"="32"',
                "",
                "[HKEY_LOCAL_MACHINE\\SYSTEM\\Shared]",
                '"Bits"="both"',
            )
        ]
    )
    assert registry.values("HKLM\\SOFTWARE\\Vendor")["Bits"].data == "64"
    assert registry.values("HKLM\\SOFTWARE\\Vendor", Bitness.BIT32)["Bits"].data == "32"
    assert registry.values("HKLM\\SYSTEM\\Shared", Bitness.BIT32)["Bits"].data == "both"


# --- the live registry, through a stand-in for winreg -------------------------------------


class FakeWinreg:
    """Answers like winreg over a dict of keys; records the access flags asked for."""

    def __init__(self, keys: dict[str, dict[str, tuple[Any, int]]], denied: str = "") -> None:
        self.keys = keys
        self.denied = denied
        self.opened: list[tuple[int, str, int]] = []

    @contextmanager
    def _handle(self, name: str) -> Iterator[str]:
        yield name

    def OpenKey(self, key: int, sub_key: str, reserved: int, access: int, /) -> Any:  # noqa: N802
        self.opened.append((key, sub_key, access))
        if sub_key == self.denied:
            raise PermissionError(13, "Access is denied")
        if sub_key not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return self._handle(sub_key)

    def _children(self, name: str) -> list[str]:
        return [key.rsplit("\\", 1)[1] for key in self.keys if key.rsplit("\\", 1)[0] == name]

    def QueryInfoKey(self, key: Any, /) -> tuple[int, int, int]:  # noqa: N802
        return len(self._children(key)), len(self.keys[key]), 0

    def EnumKey(self, key: Any, index: int, /) -> str:  # noqa: N802
        return self._children(key)[index]

    def EnumValue(self, key: Any, index: int, /) -> tuple[str, Any, int]:  # noqa: N802
        name, (data, kind) = list(self.keys[key].items())[index]
        return name, data, kind


def test_winreg_registry_asks_windows_for_the_64_and_the_32_bit_view() -> None:
    api = FakeWinreg({"SOFTWARE\\App": {"V": ("x", 1)}})
    registry = WinregRegistry(api)
    registry.values("HKLM\\SOFTWARE\\App")
    registry.values("HKLM\\SOFTWARE\\App", Bitness.BIT32)
    assert api.opened == [
        (0x80000002, "SOFTWARE\\App", 0x20019 | 0x0100),
        (0x80000002, "SOFTWARE\\App", 0x20019 | 0x0200),
    ]


def test_winreg_registry_returns_frozen_values_and_subkeys() -> None:
    api = FakeWinreg(
        {
            "SOFTWARE\\App": {"Ids": (["A", "B"], 7), "None": (None, 0), "N": (5, 4)},
            "SOFTWARE\\App\\Child": {},
        }
    )
    registry = WinregRegistry(api)
    assert registry.subkeys("HKEY_LOCAL_MACHINE\\SOFTWARE\\App") == ["Child"]
    assert registry.values("HKLM\\SOFTWARE\\App") == {
        "Ids": RegValue(7, ("A", "B")),
        "None": RegValue(0, b""),
        "N": RegValue(4, 5),
    }


def test_winreg_registry_reads_a_missing_key_as_empty_and_a_denied_one_as_an_error() -> None:
    registry = WinregRegistry(FakeWinreg({}, denied="SYSTEM\\Locked"))
    assert registry.subkeys("HKLM\\SOFTWARE\\Missing") == []
    with pytest.raises(RegistryAccessDeniedError, match="access denied"):
        registry.values("HKLM\\SYSTEM\\Locked")


@pytest.mark.skipif(sys.platform == "win32", reason="winreg exists on Windows")
def test_winreg_registry_without_winreg_is_a_clear_error_off_windows() -> None:
    with pytest.raises(CollectorError, match="only be read on Windows"):
        WinregRegistry()


# --- installed software --------------------------------------------------------------------


def test_it_lists_programs_from_both_hklm_views(adapter: WindowsAdapter) -> None:
    found = [
        (p.name, p.version, p.publisher, p.install_date, p.source)
        for p in adapter.installed_software()
        if p.source != "registry:HKCU"
    ]
    assert found == [
        ("7-Zip 23.01 (x64)", "23.01", "Igor Pavlov", "", "registry:HKLM64"),
        ("Google Chrome", "126.0.6478.127", "Google LLC", "2024-07-01", "registry:HKLM64"),
        (
            "Microsoft Office Professional Plus 2016",
            "16.0.4266.1001",
            "Microsoft Corporation",
            "",
            "registry:HKLM64",
        ),
        (
            "北信源终端安全登记与管理系统",
            "6.0.2108.1001",
            "北京北信源软件股份有限公司",
            "2022/8/16",
            "registry:HKLM64",
        ),
        (
            "Microsoft Update Health Tools",
            "5.72.0.0",
            "Microsoft Corporation",
            "2024-01-12",
            "registry:HKLM64",
        ),
        ("360安全卫士", "13.0.0.2006", "360安全中心", "", "registry:HKLM32"),
        (
            "钉钉",
            "7.5.30-Release.4299101",
            "Alibaba (China) Network Technology Co.,Ltd.",
            "",
            "registry:HKLM32",
        ),
        (
            "Microsoft Edge",
            "126.0.2592.87",
            "Microsoft Corporation",
            "2024-07-05",
            "registry:HKLM32",
        ),
        (
            "奇安信天擎终端安全管理系统",
            "10.0.0.5000",
            "奇安信网神信息技术(北京)股份有限公司",
            "2023-03-01",
            "registry:HKLM32",
        ),
        ("微信", "3.9.10.27", "腾讯科技(深圳)有限公司", "", "registry:HKLM32"),
        (
            "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33130",
            "14.38.33130.0",
            "Microsoft Corporation",
            "",
            "registry:HKLM32",
        ),
    ]


def test_it_lists_every_users_programs_with_their_owner(adapter: WindowsAdapter) -> None:
    """Logged-on users (li, wang) from HKU, the Entra ID user zhangsan from the NTUSER.DAT of
    a profile that is not loaded; zhao's profile has no hive file left and is skipped."""
    found = [
        (p.name, p.version, p.install_date, p.owner)
        for p in adapter.installed_software()
        if p.source == "registry:HKCU"
    ]
    assert found == [
        ("飞书", "7.19.5", "2024-06-18", "li"),
        ("WPS Office (12.1.0.16929)", "12.1.0.16929", "2024-05-20", "li"),
        ("同花顺", "9.20.60", "", "li"),
        ("Clash for Windows 0.20.39", "0.20.39", "2024-07-02", "wang"),
        ("WPS Office (12.1.0.16929)", "12.1.0.16929", "2024-05-20", "wang"),
        ("WPS Office (12.1.0.16929)", "12.1.0.16929", "2024-05-20", "zhangsan"),
        ("Zoom Workplace", "6.1.1 (41705)", "", "zhangsan"),
    ]
    machine_wide = [p for p in adapter.installed_software() if p.source != "registry:HKCU"]
    assert {p.owner for p in machine_wide} == {""}


def test_it_skips_what_programs_and_features_hides(adapter: WindowsAdapter) -> None:
    names = {program.name for program in adapter.installed_software()}
    # SystemComponent=1
    assert "Microsoft Visual C++ 2022 X64 Minimum Runtime - 14.38.33130" not in names
    assert "Microsoft Visual C++ 2022 X86 Additional Runtime - 14.38.33130" not in names
    # ParentKeyName: an update of Office
    assert not any(name.startswith("Security Update for Microsoft Office") for name in names)
    # the same Office product also has a hidden MSI entry: listed once
    assert [name for name in names if "Office Professional" in name] == [
        "Microsoft Office Professional Plus 2016"
    ]


@pytest.mark.parametrize(
    ("values", "listed"),
    [
        ('"DisplayName"="Tool"', True),
        ('"DisplayName"=""', False),
        ('"Publisher"="Nobody"', False),
        ('"DisplayName"="Tool"\r\n"SystemComponent"=dword:00000001', False),
        ('"DisplayName"="Tool"\r\n"SystemComponent"=dword:00000000', True),
        ('"DisplayName"="KB123"\r\n"ParentKeyName"="Tool"', False),
    ],
)
def test_each_skip_rule_on_its_own(values: str, listed: bool) -> None:
    registry = RegExportRegistry(
        [
            export(
                "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\T]",
                values,
            )
        ]
    )
    assert bool(WindowsAdapter(registry, ReplayRunner()).installed_software()) is listed


def test_a_loaded_users_programs_are_read_once_and_system_hives_not_at_all() -> None:
    entry = '"DisplayName"="Feishu"\r\n"DisplayVersion"="7.19.5"'
    uninstall = "Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Feishu"
    sid = "S-1-5-21-1-2-3-1001"
    profiles = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList"
    registry = RegExportRegistry(
        [
            export(f"[{profiles}\\{sid}]", '"ProfileImagePath"="C:\\\\Users\\\\li"'),
            export(f"[{profiles}\\S-1-5-18]", '"ProfileImagePath"="C:\\\\Windows"'),
            # LocalSystem's own HKCU is the system profile, not a user's
            export(f"[HKEY_CURRENT_USER\\{uninstall}]", '"DisplayName"="SystemProfile"'),
            export(f"[HKEY_USERS\\{sid}\\{uninstall}]", entry),
            # file associations and system accounts are not users' installs
            export(f"[HKEY_USERS\\{sid}_Classes\\{uninstall}]", '"DisplayName"="Classes"'),
            export(f"[HKEY_USERS\\S-1-5-18\\{uninstall}]", '"DisplayName"="LocalSystem"'),
        ]
    )
    found = WindowsAdapter(registry, ReplayRunner()).installed_software()
    assert [(p.name, p.source, p.owner) for p in found] == [("Feishu", "registry:HKCU", "li")]


# --- host identity -------------------------------------------------------------------------


def test_it_names_windows_11_although_product_name_says_windows_10(
    adapter: WindowsAdapter,
) -> None:
    release = adapter.os_release()
    assert release.name == "Windows 11 Pro 23H2"
    assert release.version == "10.0.22631.3724"
    assert release.kernel == "10.0.22631"


def test_a_build_below_22000_stays_windows_10() -> None:
    registry = RegExportRegistry(
        [
            export(
                "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]",
                '"ProductName"="Windows 10 Enterprise LTSC 2021"',
                '"CurrentBuild"="19044"',
                '"CurrentMajorVersionNumber"=dword:0000000a',
                '"CurrentMinorVersionNumber"=dword:00000000',
                '"ReleaseId"="2009"',
                '"DisplayVersion"="21H2"',
                '"UBR"=dword:00001126',
            )
        ]
    )
    release = WindowsAdapter(registry, ReplayRunner()).os_release()
    assert (release.name, release.version) == (
        "Windows 10 Enterprise LTSC 2021 21H2",
        "10.0.19044.4390",
    )


def test_it_reads_the_machine_guid(adapter: WindowsAdapter) -> None:
    assert adapter.machine_id() == "3f1c9a7e-5b2d-4e8f-9a6c-0d1e2f3a4b5c"


def test_a_machine_without_machine_guid_is_an_error() -> None:
    adapter = WindowsAdapter(RegExportRegistry(), ReplayRunner())
    with pytest.raises(CollectorError, match="MachineGuid"):
        adapter.machine_id()
    with pytest.raises(CollectorError, match="ProductName"):
        adapter.os_release()


def test_the_fqdn_is_the_host_name_with_the_primary_dns_suffix(adapter: WindowsAdapter) -> None:
    assert adapter.fqdn("BJ-2026-0417") == "BJ-2026-0417.ga.example.gov.cn"
    assert adapter.fqdn("already.qualified") == "already.qualified"
    assert WindowsAdapter(RegExportRegistry(), ReplayRunner()).fqdn("pc") == "pc"


def test_disk_serials_are_those_of_the_internal_disks_trimmed(adapter: WindowsAdapter) -> None:
    assert adapter.disk_serials() == ("0025_3881_1B50_9A21.", "ZN1ABCDE")


# --- services ------------------------------------------------------------------------------


def test_it_normalises_every_recorded_service(adapter: WindowsAdapter) -> None:
    found = [
        (s.name, s.display_name, s.state, s.start_mode, s.source, s.raw_state)
        for s in adapter.services()
    ]
    assert found == [
        ("AudioSrv", "Windows Audio", "running", "auto", "windows", "running"),
        (
            "BITS",
            "Background Intelligent Transfer Service",
            "other",
            "manual",
            "windows",
            "start_pending",
        ),
        ("Dhcp", "DHCP Client", "running", "auto", "windows", "running"),
        ("Dnscache", "DNS Client", "running", "auto", "windows", "running"),
        ("EventLog", "Windows Event Log", "running", "auto", "windows", "running"),
        ("icssvc", "Windows 移动热点服务", "stopped", "manual", "windows", "stopped"),
        ("LanmanServer", "Server", "running", "auto", "windows", "running"),
        ("RemoteRegistry", "Remote Registry", "stopped", "disabled", "windows", "stopped"),
        (
            "SharedAccess",
            "Internet Connection Sharing (ICS)",
            "stopped",
            "manual",
            "windows",
            "stopped",
        ),
        ("Spooler", "Print Spooler", "running", "auto", "windows", "running"),
        ("sppsvc", "Software Protection", "stopped", "auto", "windows", "stopped"),
        ("TermService", "Remote Desktop Services", "stopped", "manual", "windows", "stopped"),
        (
            "TQClientSvc",
            "奇安信天擎终端安全管理系统服务",
            "running",
            "auto",
            "windows",
            "running",
        ),
        ("vrvedp_m", "北信源终端安全登记与管理系统", "stopped", "auto", "windows", "stopped"),
        (
            "WinDefend",
            "Microsoft Defender Antivirus Service",
            "running",
            "auto",
            "windows",
            "running",
        ),
        ("wuauserv", "Windows Update", "stopped", "manual", "windows", "stopped"),
        ("ZhuDongFangYu", "360主动防御服务模块", "running", "auto", "windows", "running"),
    ]


def psutil_record(**changes: Any) -> dict[str, Any]:
    """One as_dict() record in psutil's shape, a running automatic service unless changed."""
    record: dict[str, Any] = {
        "display_name": "Test Service",
        "binpath": "C:\\WINDOWS\\system32\\svchost.exe -k netsvcs -p",
        "username": "LocalSystem",
        "start_type": "automatic",
        "status": "running",
        "pid": 1234,
        "name": "TestSvc",
        "description": "",
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("running", "running"),
        ("stopped", "stopped"),
        ("paused", "other"),
        ("start_pending", "other"),
        ("pause_pending", "other"),
        ("continue_pending", "other"),
        ("stop_pending", "other"),
        ("unknown", "other"),  # psutil's word for a state it does not know
    ],
)
def test_each_psutil_status_maps_to_a_state_and_is_kept_raw(status: str, state: str) -> None:
    [service] = services_from_records([psutil_record(status=status)])
    assert (service.state, service.raw_state) == (state, status)


@pytest.mark.parametrize(
    ("start_type", "start_mode"),
    [
        ("automatic", "auto"),
        ("manual", "manual"),
        ("disabled", "disabled"),
        ("unknown", "other"),  # boot/system start: drivers, which psutil does not list
        ("", ""),
    ],
)
def test_each_psutil_start_type_maps_to_a_start_mode(start_type: str, start_mode: str) -> None:
    [service] = services_from_records([psutil_record(start_type=start_type)])
    assert service.start_mode == start_mode


def test_a_chinese_display_name_is_kept_as_it_is(adapter: WindowsAdapter) -> None:
    services = {service.name: service for service in adapter.services()}
    assert services["vrvedp_m"].display_name == "北信源终端安全登记与管理系统"


def test_no_services_is_an_empty_tuple(registry: RegExportRegistry) -> None:
    assert services_from_records([]) == ()
    assert WindowsAdapter(registry, ReplayRunner(), service_records=list).services() == ()


def test_missing_or_none_fields_read_as_empty_and_a_nameless_record_is_left_out() -> None:
    records: list[Mapping[str, Any]] = [
        {"name": "Bare", "status": "stopped"},  # no display_name, start_type, pid, ...
        psutil_record(display_name=None, start_type=None, status=None),
        {"display_name": "No Name", "status": "running", "start_type": "manual"},
        psutil_record(name=""),
    ]
    found = [
        (s.name, s.display_name, s.state, s.start_mode, s.raw_state)
        for s in services_from_records(records)
    ]
    assert found == [
        ("Bare", "", "stopped", "", "stopped"),
        ("TestSvc", "", "other", "", ""),
    ]


def test_the_adapter_reads_the_records_each_time_services_is_asked_for(
    registry: RegExportRegistry,
) -> None:
    calls: list[int] = []

    def records() -> list[dict[str, Any]]:
        calls.append(1)
        return [psutil_record()]

    adapter = WindowsAdapter(registry, ReplayRunner(), service_records=records)
    assert calls == []  # nothing is read when the adapter is made
    assert [s.name for s in adapter.services()] == ["TestSvc"]
    assert [s.name for s in adapter.services()] == ["TestSvc"]
    assert len(calls) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="psutil lists services on Windows")
def test_live_service_records_off_windows_is_a_clear_error() -> None:
    assert not hasattr(psutil, "win_service_iter")
    with pytest.raises(CollectorError, match="only be listed on Windows"):
        live_service_records()


class FakeWindowsService:
    """Stands in for psutil's WindowsService: as_dict() answers or raises."""

    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error

    def as_dict(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return psutil_record(name=self.name)


def test_live_service_records_skips_services_that_vanish_or_deny_access(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed = [
        FakeWindowsService("Spooler"),
        FakeWindowsService("Gone", psutil.NoSuchProcess(pid=0, name="Gone")),
        FakeWindowsService("Locked", psutil.AccessDenied(name="Locked")),
        FakeWindowsService("wuauserv"),
    ]
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(psutil, "win_service_iter", lambda: iter(listed), raising=False)
    assert [record["name"] for record in live_service_records()] == ["Spooler", "wuauserv"]


def test_live_service_records_without_the_service_manager_is_a_collector_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scm_denied() -> Iterator[FakeWindowsService]:
        raise PermissionError(13, "Access is denied", None, 5)

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(psutil, "win_service_iter", scm_denied, raising=False)
    with pytest.raises(CollectorError, match="Windows services unavailable"):
        live_service_records()


def test_a_failing_service_source_propagates_its_collector_error(
    registry: RegExportRegistry,
) -> None:
    def denied() -> list[dict[str, Any]]:
        raise CollectorError("Windows services unavailable: [WinError 5] Access is denied")

    adapter = WindowsAdapter(registry, ReplayRunner(), service_records=denied)
    with pytest.raises(CollectorError, match="Access is denied"):
        adapter.services()


# --- removable storage attached now ----------------------------------------------------------


def test_it_reports_a_stick_with_serial_and_its_drive(adapter: WindowsAdapter) -> None:
    stick = next(d for d in adapter.removable_storage() if d.device == "\\\\.\\PHYSICALDRIVE2")
    assert (stick.vendor_id, stick.product_id, stick.serial) == (
        "0781",
        "5567",
        "4C530001230521112345",
    )
    assert (stick.vendor, stick.model, stick.size_bytes) == (
        "SanDisk",
        "SanDisk Cruzer Blade",
        15610576896,
    )
    assert (stick.removable, stick.bus) == (True, "usb")
    assert (stick.mounts, stick.labels, stick.filesystems) == (("E:",), ("工作资料",), ("FAT32",))
    assert stick.bus_path == "USB\\VID_0781&PID_5567\\4C530001230521112345"


def test_it_reports_a_stick_without_serial(adapter: WindowsAdapter) -> None:
    stick = next(d for d in adapter.removable_storage() if d.device == "\\\\.\\PHYSICALDRIVE3")
    assert (stick.vendor_id, stick.product_id, stick.serial) == ("090c", "1000", "")
    assert (stick.mounts, stick.labels) == (("F:",), ())
    assert stick.bus_path == "USB\\VID_090C&PID_1000\\6&1b2c3d4e&0&3"


def test_it_reports_a_uas_disk_that_windows_calls_scsi(adapter: WindowsAdapter) -> None:
    disk = next(d for d in adapter.removable_storage() if d.device == "\\\\.\\PHYSICALDRIVE4")
    assert (disk.vendor_id, disk.product_id, disk.serial) == ("04e8", "61f5", "S4AJNF0N700123A")
    assert (disk.model, disk.removable, disk.bus, disk.mounts) == (
        "Samsung Portable SSD T5",
        False,
        "usb",
        ("G:",),
    )


def test_internal_disks_are_not_removable_storage(adapter: WindowsAdapter) -> None:
    devices = [disk.device for disk in adapter.removable_storage()]
    assert devices == ["\\\\.\\PHYSICALDRIVE2", "\\\\.\\PHYSICALDRIVE3", "\\\\.\\PHYSICALDRIVE4"]


def test_a_machine_without_removable_disks_asks_for_no_volumes(
    registry: RegExportRegistry,
) -> None:
    recorded = json.loads((FIXTURES / "win32_diskdrive.json").read_text(encoding="utf-8"))
    internal_only = json.dumps([disk for disk in recorded if disk["Index"] in (0, 1)])
    runner = ReplayRunner({DISK_DRIVES: internal_only})
    assert WindowsAdapter(registry, runner).removable_storage() == ()
    assert [argv[4].removeprefix(UTF8_PREFIX) for argv in runner.calls] == [DISK_DRIVES]


def test_without_the_usb_registry_keys_a_usbstor_id_still_gives_the_serial() -> None:
    adapter = WindowsAdapter(RegExportRegistry(), ReplayRunner())
    by_device = {disk.device: disk for disk in adapter.removable_storage()}
    sandisk = by_device["\\\\.\\PHYSICALDRIVE2"]
    assert (sandisk.vendor_id, sandisk.serial, sandisk.bus) == ("", "4C530001230521112345", "usb")
    assert sandisk.vendor == "SANDISK"  # as CIM spells it, without the Enum key
    assert by_device["\\\\.\\PHYSICALDRIVE3"].serial == ""
    assert by_device["\\\\.\\PHYSICALDRIVE4"].serial == ""  # SCSI ids are always made up


# --- USB devices attached now ----------------------------------------------------------------


def usb_by_id(adapter: WindowsAdapter) -> dict[str, UsbDevice]:
    return {f"{d.vendor_id}:{d.product_id}": d for d in adapter.usb_devices()}


@pytest.mark.parametrize(
    ("device", "usb_class"),
    [
        ("0781:5567", UsbClass.MASS_STORAGE),  # SanDisk stick
        ("090c:1000", UsbClass.MASS_STORAGE),  # stick without serial
        ("04e8:61f5", UsbClass.MASS_STORAGE),  # UAS disk
        ("2717:ff48", UsbClass.PHONE_OR_CAMERA),  # Android phone, MTP (WPD)
        ("05ac:12a8", UsbClass.PHONE_OR_CAMERA),  # iPhone, PTP + Apple Ethernet
        ("18d1:4ee3", UsbClass.NETWORK),  # phone tethering over RNDIS
        ("12d1:15c1", UsbClass.NETWORK),  # 4G stick, MBIM
        ("046d:c52b", UsbClass.HID),  # keyboard/mouse receiver
        ("05e3:0610", UsbClass.HUB),
        ("8087:0026", UsbClass.OTHER),  # Bluetooth radio (e0/01/01 is not RNDIS)
        ("04f2:b6dd", UsbClass.OTHER),  # webcam, its device node absent from the list
    ],
)
def test_it_classifies_every_present_usb_device(
    adapter: WindowsAdapter, device: str, usb_class: UsbClass
) -> None:
    assert usb_by_id(adapter)[device].usb_class is usb_class


def test_usb_devices_carry_serials_names_and_interfaces(adapter: WindowsAdapter) -> None:
    devices = usb_by_id(adapter)
    assert len(devices) == 11
    phone = devices["2717:ff48"]
    assert (phone.serial, phone.raw_serial) == ("D3F8A21C", "d3f8a21c")
    assert (phone.serial, phone.product, phone.manufacturer, phone.driver) == (
        "D3F8A21C",
        "Redmi Note 12",
        "Xiaomi",
        "usbccgp",
    )
    assert phone.interface_classes == ("ff/42/01", "ff/ff/00")
    iphone = devices["05ac:12a8"]
    assert (iphone.serial, iphone.product, iphone.manufacturer) == (
        "00008110000A1B2C3D4E801E",
        "Apple iPhone",
        "Apple, Inc.",
    )
    assert devices["0781:5567"].interface_classes == ("08/06/50",)
    assert devices["0781:5567"].has_serial
    assert not devices["090c:1000"].has_serial
    assert not devices["046d:c52b"].has_serial
    assert devices["04f2:b6dd"].bus_path == "USB\\VID_04F2&PID_B6DD&MI_00\\6&1A9B8C7D&0&0000"


def test_windows_setup_classes_decide_what_interface_classes_cannot(
    registry: RegExportRegistry,
) -> None:
    """An MTP phone without the MS_COMP_MTP descriptor, a gaming mouse with a vendor
    interface beside its HID one."""
    recorded = json.dumps(
        [
            {
                "InstanceId": "USB\\VID_12D1&PID_107E\\ABCDEF0123456789",
                "FriendlyName": "HUAWEI P30",
                "Class": "WPD",
                "Manufacturer": "HUAWEI",
                "Service": "WUDFRd",
                "CompatibleID": ["USB\\Class_ff&SubClass_ff&Prot_00"],
            },
            {
                "InstanceId": "USB\\VID_1532&PID_0084\\5&2B3C4D5E&0&2",
                "FriendlyName": "USB Input Device",
                "Class": "HIDClass",
                "Manufacturer": "(Standard system devices)",
                "Service": "HidUsb",
                "CompatibleID": [
                    "USB\\Class_03&SubClass_01&Prot_02",
                    "USB\\Class_ff&SubClass_00&Prot_00",
                ],
            },
        ]
    )
    adapter = WindowsAdapter(registry, ReplayRunner({PNP_USB_DEVICES: recorded}))
    devices = usb_by_id(adapter)
    assert devices["12d1:107e"].usb_class is UsbClass.PHONE_OR_CAMERA
    assert devices["12d1:107e"].manufacturer == "HUAWEI"
    assert devices["1532:0084"].usb_class is UsbClass.HID
    assert devices["1532:0084"].manufacturer == ""


# --- removable media history -----------------------------------------------------------------


def history_by_product(
    adapter: WindowsAdapter, since: dt.datetime | None = None
) -> dict[str, MediaEvent]:
    return {event.product: event for event in adapter.media_history(since).events}


def test_history_lists_usbstor_sticks_with_vid_pid_serial_and_times(
    adapter: WindowsAdapter,
) -> None:
    result = adapter.media_history(None)
    assert result.source == "registry:USBSTOR"
    assert result.error == ""
    sandisk = history_by_product(adapter)["SanDisk Cruzer Blade USB Device"]
    assert (sandisk.vendor_id, sandisk.product_id, sandisk.serial) == (
        "0781",
        "5567",
        "4C530001230521112345",
    )
    assert (sandisk.manufacturer, sandisk.usb_class, sandisk.source) == (
        "SanDisk",
        UsbClass.MASS_STORAGE,
        "registry:USBSTOR",
    )
    assert sandisk.time == dt.datetime(2024, 3, 11, 1, 22, 35, tzinfo=UTC)
    assert sandisk.last_seen == dt.datetime(2024, 7, 8, 0, 41, 9, tzinfo=UTC)


def test_history_reports_a_stick_without_serial_with_its_vid_and_pid(
    adapter: WindowsAdapter,
) -> None:
    generic = history_by_product(adapter)["Generic Flash Disk USB Device"]
    assert (generic.vendor_id, generic.product_id, generic.serial) == ("090c", "1000", "")
    assert generic.bus_path == "USB\\VID_090C&PID_1000\\6&1b2c3d4e&0&3"
    assert generic.last_seen == dt.datetime(2024, 7, 8, 0, 55, 21, tzinfo=UTC)


def test_history_keeps_a_device_whose_times_were_not_recorded(adapter: WindowsAdapter) -> None:
    aigo = history_by_product(adapter, dt.datetime(2024, 7, 1, tzinfo=UTC))[
        "aigo Miniking USB Device"
    ]
    assert (aigo.time, aigo.last_seen) == (None, None)
    assert (aigo.vendor_id, aigo.product_id, aigo.serial) == ("", "", "AA00000000000489")
    assert aigo.bus_path == "USBSTOR\\Disk&Ven_aigo&Prod_Miniking&Rev_8.07\\AA00000000000489&0"


def test_history_includes_phones_and_uas_disks_from_enum_usb(adapter: WindowsAdapter) -> None:
    events = history_by_product(adapter)
    redmi = events["Redmi Note 12"]
    assert (redmi.vendor_id, redmi.product_id, redmi.serial, redmi.usb_class) == (
        "2717",
        "ff48",
        "D3F8A21C",
        UsbClass.PHONE_OR_CAMERA,
    )
    assert (redmi.manufacturer, redmi.source) == ("", "registry:USB")
    # last seen is its last removal (0067), after its last arrival (0066) at 08:00:44
    assert redmi.last_seen == dt.datetime(2024, 7, 1, 9, 47, 3, tzinfo=UTC)
    iphone = events["Apple iPhone"]
    assert (iphone.serial, iphone.manufacturer) == ("00008110000A1B2C3D4E801E", "Apple Inc.")
    assert iphone.time == dt.datetime(2024, 2, 10, 2, 30, tzinfo=UTC)
    uas = events["Samsung Portable SSD T5 SCSI Disk Device"]
    assert (uas.serial, uas.usb_class) == ("S4AJNF0N700123A", UsbClass.MASS_STORAGE)
    assert (uas.vendor_id, uas.product_id, uas.manufacturer) == ("04e8", "61f5", "Samsung")


def test_history_leaves_out_devices_that_are_not_media(adapter: WindowsAdapter) -> None:
    ids = {(e.vendor_id, e.product_id) for e in adapter.media_history(None).events}
    assert ids == {
        ("0781", "5567"),
        ("090c", "1000"),
        ("0951", "1666"),
        ("", ""),
        ("04e8", "61f5"),
        ("2717", "ff48"),
        ("05ac", "12a8"),
    }


def test_history_since_filters_by_last_arrival(adapter: WindowsAdapter) -> None:
    everything = history_by_product(adapter)
    assert "Kingston DataTraveler 3.0 USB Device" in everything
    recent = history_by_product(adapter, dt.datetime(2024, 7, 2, tzinfo=UTC))
    assert set(recent) == {
        "SanDisk Cruzer Blade USB Device",
        "Generic Flash Disk USB Device",
        "aigo Miniking USB Device",
        "Samsung Portable SSD T5 SCSI Disk Device",
        "Apple iPhone",
    }


class PropertiesDenied:
    """A registry where, as for an agent not running as LocalSystem, Properties is locked."""

    def __init__(self, inner: RegExportRegistry) -> None:
        self.inner = inner

    def subkeys(self, path: str, bitness: Bitness = Bitness.BIT64) -> list[str]:
        return self.inner.subkeys(path, bitness)

    def values(self, path: str, bitness: Bitness = Bitness.BIT64) -> dict[str, RegValue]:
        if "\\Properties\\" in path:
            raise RegistryAccessDeniedError(f"{path}: access denied")
        return self.inner.values(path, bitness)

    def last_written(self, path: str, bitness: Bitness = Bitness.BIT64) -> dt.datetime | None:
        return self.inner.last_written(path, bitness)


def test_history_without_readable_times_still_lists_every_device(
    registry: RegExportRegistry,
) -> None:
    adapter = WindowsAdapter(PropertiesDenied(registry), ReplayRunner())
    events = adapter.media_history(dt.datetime(2030, 1, 1, tzinfo=UTC)).events
    assert len(events) == 7
    assert all(event.time is None and event.last_seen is None for event in events)


# --- network -------------------------------------------------------------------------------


def test_it_classifies_each_network_adapter(adapter: WindowsAdapter) -> None:
    kinds = {name: info.kind for name, info in adapter.interface_info().items()}
    assert kinds == {
        "以太网": InterfaceKind.WIRED,
        "WLAN": InterfaceKind.WIRELESS,
        "以太网 2": InterfaceKind.USB_TETHER,
        "以太网 3": InterfaceKind.USB_TETHER,
        "手机网络": InterfaceKind.WWAN,
        "vEthernet (Default Switch)": InterfaceKind.VIRTUAL,
        "本地连接": InterfaceKind.VPN,
        "蓝牙网络连接": InterfaceKind.OTHER,
        "Npcap Loopback Adapter": InterfaceKind.LOOPBACK,
        "本地连接* 1": InterfaceKind.WIRELESS,  # Wi-Fi Direct: what a mobile hotspot uses
        "本地连接* 2": InterfaceKind.OTHER,
        "本地连接* 9": InterfaceKind.OTHER,
    }


def test_adapters_name_their_driver_and_description(adapter: WindowsAdapter) -> None:
    tether = adapter.interface_info()["以太网 2"]
    assert (tether.driver, tether.description) == (
        "rndismp6",
        "Remote NDIS based Internet Sharing Device",
    )
    assert adapter.interface_info()["vEthernet (Default Switch)"].driver == "vmsproxyhnic"


def test_it_finds_both_default_routes(adapter: WindowsAdapter) -> None:
    defaults = [r for r in adapter.routes() if r.is_default]
    assert [(r.gateway, r.interface, r.metric, r.family) for r in defaults] == [
        ("192.168.42.129", "以太网 2", 0, "ipv4"),
        ("10.20.30.1", "以太网", 0, "ipv4"),
    ]


def test_on_link_routes_have_no_gateway_and_ipv6_is_recognised(adapter: WindowsAdapter) -> None:
    routes = {(r.destination, r.interface): r for r in adapter.routes()}
    assert len(routes) == 17
    on_link = routes[("10.20.30.0/24", "以太网")]
    assert (on_link.gateway, on_link.metric, on_link.family) == ("", 256, "ipv4")
    assert routes[("fe80::/64", "以太网")].family == "ipv6"


def test_dns_servers_leave_out_the_site_local_placeholders(adapter: WindowsAdapter) -> None:
    assert adapter.dns_servers() == ("192.168.42.129", "10.20.1.53", "10.20.1.54")


# --- failures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "disk_serials",
        "removable_storage",
        "usb_devices",
        "interface_info",
        "routes",
        "dns_servers",
    ],
)
def test_a_failing_command_propagates_as_command_error(
    registry: RegExportRegistry, method: str
) -> None:
    adapter = WindowsAdapter(registry, failing_runner)
    with pytest.raises(CommandError, match="Access denied") as caught:
        getattr(adapter, method)()
    assert caught.value.argv[:4] == POWERSHELL


def test_output_that_is_not_json_is_a_collector_error(registry: RegExportRegistry) -> None:
    adapter = WindowsAdapter(registry, ReplayRunner({DNS_SERVERS: "Get-DnsClient : 拒绝访问。"}))
    with pytest.raises(CollectorError, match="PowerShell printed no JSON"):
        adapter.dns_servers()


def test_the_adapter_says_it_is_windows(adapter: WindowsAdapter) -> None:
    assert adapter.name == "windows"


def test_the_inventory_collectors_run_on_recorded_windows_data(
    registry: RegExportRegistry,
) -> None:
    """The adapter through the real collectors: what `custos-agent inventory` would print on
    this Windows machine (psutil's own parts still describe the machine running the test)."""
    context = CollectContext(
        platform=WindowsAdapter(
            registry,
            ReplayRunner(),
            service_records=recorded_services,
            user_hives=unloaded_profile_hive,
        ),
        asset=AssetFields(),
        now=dt.datetime(2024, 7, 8, 2, 0, tzinfo=UTC),
        history_since=dt.datetime(2024, 7, 2, tzinfo=UTC),
    )
    inventory = collect_inventory(context)
    assert inventory.errors == {}
    assert inventory.host is not None
    assert (inventory.host.platform, inventory.host.os_name) == ("windows", "Windows 11 Pro 23H2")
    assert inventory.software is not None
    assert len(inventory.software) == 18
    assert inventory.services is not None
    assert len(inventory.services) == 17
    assert [s.name for s in inventory.services if s.state == "other"] == ["BITS"]
    assert inventory.media is not None
    assert len(inventory.media.storage) == 3
    assert len(inventory.media.history) == 5
    assert inventory.network is not None
    assert len(inventory.network.default_routes) == 2

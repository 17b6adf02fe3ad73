"""Reading DHCP lease files and switch MAC tables (tests/fixtures/sightings/README.md says
where each sample's format comes from)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from server.sightings.imports import Parsed, UnusableFileError, parse
from server.sightings.models import ImportFormat

pytestmark = pytest.mark.server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sightings"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone.utc)
UTC = dt.timezone.utc


def read(name: str, import_format: ImportFormat) -> Parsed:
    return parse(import_format, (FIXTURES / name).read_bytes(), NOW)


def devices(parsed: Parsed) -> dict[str, tuple[str, str, str, dt.datetime | None]]:
    return {seen.mac: (seen.ip, seen.name, seen.state, seen.at) for seen in parsed.view}


def test_dhcpd_leases_give_each_device_its_latest_lease_and_the_hosts_declared() -> None:
    parsed = read("dhcpd.leases", ImportFormat.DHCPD)
    assert devices(parsed) == {
        # two blocks for .101: the later one (cltt Dec 1) is current
        "00:1b:21:3a:4f:5c": (
            "10.20.30.101",
            "DESKTOP-7Q2K9L",
            "active",
            dt.datetime(2026, 12, 1, 0, 58, 41, tzinfo=UTC),
        ),
        "f4:8e:38:07:08:09": (
            "10.20.30.102",
            "zhangsan-pc",
            "active",
            dt.datetime(2026, 12, 1, 1, 2, 3, tzinfo=UTC),
        ),
        "00:1b:a9:44:55:66": (
            "10.20.30.103",
            "BRN001BA9445566",
            "free",
            dt.datetime(2026, 11, 26, 6, 12, 40, tzinfo=UTC),
        ),
        "da:a1:19:5e:00:01": (
            "10.20.30.105",
            "Xiaomi-14",
            "active",
            dt.datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
        ),
        "00:1b:a9:44:55:77": ("10.20.30.41", "", "host", None),  # host printer-2f
        # host old-scanner was declared and then deleted: not a device any more
    }
    # the abandoned lease has no hardware address; the typo is a problem, with its line
    assert [str(problem) for problem in parsed.problems] == [
        "line 77: '00:1b:21:zz:00:01' is not the MAC address of a device"
    ]


def test_dhcpd_reads_epoch_times_and_braces_inside_quoted_strings() -> None:
    text = (
        "lease 10.0.0.9 {\n  starts epoch 1796202000; # Wed Dec 02 09:00:00 2026\n"
        '  hardware ethernet 00:1B:21:00:00:09;\n  client-hostname "a{b};c\\"d";\n}\n'
    )
    parsed = parse(ImportFormat.DHCPD, text.encode(), NOW)
    assert devices(parsed) == {
        "00:1b:21:00:00:09": ("10.0.0.9", 'a{b};c"d', "", dt.datetime(2026, 12, 2, 9, tzinfo=UTC))
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("address,hwaddr\n10.0.0.1,00:1b:21:00:00:01\n", "not a dhcpd.leases file"),
        ("lease 10.0.0.1 {\n  hardware ethernet 00:1b:21:00:00:01;\n", "never closed"),
        ("}\n", "without a block to close"),
        ("lease 1 " + "{ " * 50 + "}" * 50, "nested too deeply"),
    ],
)
def test_a_file_that_is_no_lease_database_is_refused_whole(text: str, reason: str) -> None:
    with pytest.raises(UnusableFileError, match=reason):
        parse(ImportFormat.DHCPD, text.encode(), NOW)


def test_dnsmasq_leases_skip_ipv6_and_date_expired_ones_by_their_expiry() -> None:
    parsed = read("dnsmasq.leases", ImportFormat.DNSMASQ)
    assert devices(parsed) == {
        "00:1b:21:3a:4f:5c": ("10.20.30.101", "DESKTOP-7Q2K9L", "", None),  # live: now
        "f4:8e:38:07:08:09": ("10.20.30.102", "zhangsan-pc", "", None),
        "00:1b:a9:44:55:66": ("10.20.30.40", "", "", None),  # infinite lease, no hostname
        "da:a1:19:5e:00:01": (
            "10.20.30.105",
            "Xiaomi-14",
            "",
            dt.datetime(2025, 12, 1, 0, 46, 40, tzinfo=UTC),
        ),
    }
    assert [problem.line for problem in parsed.problems] == [5]  # the broadcast address


def test_kea_memfile_keeps_the_latest_row_per_device_and_skips_declined_leases() -> None:
    parsed = read("kea-leases4.csv", ImportFormat.KEA)
    assert devices(parsed) == {
        "00:1b:21:3a:4f:5c": (
            "10.20.30.101",
            "desktop-7q2k9l",
            "default",
            dt.datetime(2026, 12, 1, 21, tzinfo=UTC),
        ),
        "f4:8e:38:07:08:09": (
            "10.20.30.102",
            "zhangsan-pc",
            "default",
            dt.datetime(2026, 12, 1, 23, tzinfo=UTC),
        ),
        "00:1b:a9:44:55:66": (
            "10.20.30.103",
            "",
            "expired-reclaimed",
            dt.datetime(2026, 11, 29, 12, 53, 20, tzinfo=UTC),
        ),
        "da:a1:19:5e:00:01": (
            "10.20.30.105",
            "xiaomi, 14",
            "default",
            dt.datetime(2026, 12, 1, 14, 53, 20, tzinfo=UTC),
        ),
    }
    assert parsed.problems == [] and parsed.rows == 5


def test_a_kea_file_is_known_by_its_header() -> None:
    with pytest.raises(UnusableFileError, match="no Kea header"):
        read("dnsmasq.leases", ImportFormat.KEA)


def test_the_powershell_export_of_a_windows_dhcp_server_skips_inactive_reservations() -> None:
    parsed = read("windows-dhcp-leases.csv", ImportFormat.WINDOWS_DHCP)
    assert devices(parsed) == {
        "00:1b:21:3a:4f:5c": ("10.20.30.101", "DESKTOP-7Q2K9L.ga.example.gov.cn", "Active", None),
        "f4:8e:38:07:08:09": ("10.20.30.102", "zhangsan-pc.ga.example.gov.cn", "Active", None),
        "00:1b:a9:44:55:66": ("10.20.30.40", "BRN001BA9445566", "ActiveReservation", None),
        "da:a1:19:5e:00:01": ("10.20.30.105", "Xiaomi-14", "Active", None),
    }
    assert parsed.problems == []


def test_the_chinese_dhcp_consoles_export_list_in_gb18030_is_read_too() -> None:
    parsed = read("windows-dhcp-console.txt", ImportFormat.WINDOWS_DHCP)
    assert {mac: values[:2] for mac, values in devices(parsed).items()} == {
        "00:1b:21:3a:4f:5c": ("10.20.30.101", "DESKTOP-7Q2K9L.ga.example.gov.cn"),
        "00:1b:a9:44:55:66": ("10.20.30.40", "BRN001BA9445566"),
        "da:a1:19:5e:00:01": ("10.20.30.105", "Xiaomi-14"),
    }


def test_a_switch_table_with_a_chinese_header_in_any_column_order() -> None:
    parsed = read("switch-h3c.csv", ImportFormat.SWITCH)
    assert [(seen.mac, seen.where, seen.vlan) for seen in parsed.view] == [
        ("00:0f:e2:11:22:01", "GE1/0/48", "30"),
        ("00:1b:21:3a:4f:5c", "GE1/0/11", "30"),
        ("f4:8e:38:07:08:09", "GE1/0/12", "30"),
        ("00:1b:a9:44:55:66", "GE1/0/20", "30"),
        ("00:80:77:01:02:03", "GE1/0/21", "30"),
        ("3c:22:fb:8a:41:0e", "GE1/0/12", "30"),
    ]
    assert [str(problem) for problem in parsed.problems] == [
        "line 8: '0100-5e00-0016' is not the MAC address of a device",
        "line 9: 'not-a-mac' is not the MAC address of a device",
    ]


def test_a_switch_table_without_a_header_is_mac_port_vlan() -> None:
    parsed = read("switch-cisco-noheader.csv", ImportFormat.SWITCH)
    assert [(seen.mac, seen.where, seen.vlan) for seen in parsed.view] == [
        ("00:11:22:33:44:55", "Gi1/0/5", "10"),
        ("00:aa:bb:00:00:01", "Gi1/0/6", "10"),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", "not text"),
        (b"", "empty"),
        ("端口,描述\nGE1/0/1,上联\n".encode("gb18030"), "no MAC column"),
    ],
)
def test_files_that_are_no_switch_table_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(UnusableFileError, match=reason):
        parse(ImportFormat.SWITCH, data, NOW)


def test_times_a_file_puts_in_the_future_are_taken_as_the_import_time() -> None:
    text = "lease 10.0.0.9 {\n  cltt 5 2031/01/03 00:00:00;\n  hardware ethernet 00:1b:21:00:00:09;\n}\n"
    parsed = parse(ImportFormat.DHCPD, text.encode(), NOW)
    assert parsed.view[0].at == NOW

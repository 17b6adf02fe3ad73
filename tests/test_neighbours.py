"""LAN neighbours: each OS adapter's reading of its neighbour tables, and what the collector
lets a report carry.

Linux is read from a real kernel: `tests/fixtures/linux/neighbours/record.sh` built a PC on a
bridge with a gateway, a printer and a peer (IPv4 and IPv6), a static entry, an address
nobody answers and a second network outside the office, and saved `ip -j neigh show` and
/proc/net/arp as the kernel printed them. Windows and macOS are recorded-format fixtures
(tests/fixtures/windows/README.md, tests/fixtures/macos/README.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.collectors import neighbours as collector
from agent.collectors.base import CollectContext
from agent.errors import CommandError
from agent.facts import AssetFields, Neighbour
from agent.platforms.link_address import is_device_address, normalise_link_address
from agent.platforms.linux import LinuxAdapter
from agent.platforms.linux.neighbours import IP_NEIGH_ARGV, parse_ip_neigh_json, read_proc_arp
from agent.platforms.macos import MacOSAdapter
from agent.platforms.windows import WindowsAdapter
from agent.platforms.windows.regfile import RegExportRegistry
from tests.test_macos_adapter import NDP, ventura
from tests.test_windows_adapter import ReplayRunner

LINUX = Path(__file__).resolve().parent / "fixtures" / "linux" / "neighbours"
OFFICE = (ipaddress.ip_network("10.20.30.0/24"), ipaddress.ip_network("fd20:30::/64"))


def windows_adapter(run: ReplayRunner) -> WindowsAdapter:
    return WindowsAdapter(registry=RegExportRegistry.from_files([]), run=run)


def nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


def table(entries: Sequence[Neighbour]) -> list[tuple[str, str, str, str]]:
    return [(n.address, n.mac, n.interface, n.state) for n in entries]


# --- hardware addresses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("52:54:00:0a:0b:0c", "52:54:00:0a:0b:0c"),  # Linux
        ("52-54-00-0A-0B-0C", "52:54:00:0a:0b:0c"),  # Windows
        ("52:54:0:a:b:c", "52:54:00:0a:0b:0c"),  # macOS drops leading zeros
        ("(incomplete)", None),
        ("", None),
        ("80:00:02:08:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01", None),  # InfiniBand
    ],
)
def test_every_os_spelling_of_a_mac_becomes_one(written: str, normalised: str | None) -> None:
    assert normalise_link_address(written) == normalised


def test_broadcast_multicast_and_zero_addresses_name_no_device() -> None:
    for mac in ("ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:16", "33:33:00:00:00:01", "00:00:00:00:00:00"):
        assert not is_device_address(mac)
    assert is_device_address("00:1b:21:0a:0b:0c") and is_device_address("02:42:ac:11:00:02")


# --- Linux: a real kernel's tables ----------------------------------------------------------


def test_linux_reads_both_families_with_their_states_from_ip_json() -> None:
    entries = parse_ip_neigh_json((LINUX / "ip-j-neigh.json").read_text(encoding="utf-8"))
    assert table(entries) == [
        ("10.20.30.1", "00:0f:e2:11:22:01", "eth0", "reachable"),
        ("192.168.1.1", "00:0e:c6:aa:bb:cc", "wlan0", "reachable"),
        ("10.20.30.40", "00:1b:a9:44:55:66", "eth0", "reachable"),
        ("10.20.30.16", "f4:8e:38:07:08:09", "eth0", "reachable"),
        # 10.20.30.77 answered nobody: FAILED, no hardware address, not listed
        ("10.20.30.250", "00:1b:21:0a:0b:0c", "eth0", "permanent"),
        ("fe80::20f:e2ff:fe11:2201", "00:0f:e2:11:22:01", "eth0", "delay"),
        ("fd20:30::1", "00:0f:e2:11:22:01", "eth0", "reachable"),
        ("fd20:30::16", "f4:8e:38:07:08:09", "eth0", "reachable"),
    ]
    assert {n.family for n in entries if ":" in n.address} == {"ipv6"}


def test_linux_without_iproute2_still_reads_the_ipv4_table(tmp_path: Path) -> None:
    (tmp_path / "proc" / "net").mkdir(parents=True)
    recorded = (LINUX / "proc-net-arp.txt").read_text(encoding="utf-8")
    (tmp_path / "proc" / "net" / "arp").write_text(recorded, encoding="utf-8")

    def no_ip(argv: Sequence[str], timeout: float = 10.0) -> str:
        raise CommandError(argv, "command not found")

    entries = LinuxAdapter(root=tmp_path, run=no_ip).neighbours()
    assert entries == read_proc_arp(tmp_path / "proc" / "net")
    assert table(entries) == [
        ("10.20.30.1", "00:0f:e2:11:22:01", "eth0", ""),
        ("192.168.1.1", "00:0e:c6:aa:bb:cc", "wlan0", ""),
        ("10.20.30.40", "00:1b:a9:44:55:66", "eth0", ""),
        ("10.20.30.16", "f4:8e:38:07:08:09", "eth0", ""),
        ("10.20.30.250", "00:1b:21:0a:0b:0c", "eth0", "permanent"),
    ]


def test_linux_asks_ip_for_its_json_table() -> None:
    asked: list[tuple[str, ...]] = []

    def run(argv: Sequence[str], timeout: float = 10.0) -> str:
        asked.append(tuple(argv))
        return (LINUX / "ip-j-neigh.json").read_text(encoding="utf-8")

    assert len(LinuxAdapter(root=Path("/nonexistent"), run=run).neighbours()) == 8
    assert asked == [IP_NEIGH_ARGV]


# --- Windows and macOS: recorded formats ----------------------------------------------------


def test_windows_reads_get_netneighbor_with_numeric_states() -> None:
    entries = windows_adapter(ReplayRunner()).neighbours()
    office = [n for n in entries if n.interface == "以太网" and is_device_address(n.mac)]
    assert table(office) == [
        ("10.20.30.1", "00:0f:e2:11:22:01", "以太网", "reachable"),
        ("10.20.30.16", "f4:8e:38:07:08:09", "以太网", "stale"),
        ("10.20.30.40", "00:1b:a9:44:55:66", "以太网", "stale"),
        ("fe80::20f:e2ff:fe11:2201", "00:0f:e2:11:22:01", "以太网", "stale"),
        ("fd20:30::1", "00:0f:e2:11:22:01", "以太网", "reachable"),
        ("fd20:30::16", "f4:8e:38:07:08:09", "以太网", "delay"),
    ]
    # Unreachable (all zeros) is read as it is, Incomplete (no address) and the loopback
    # pseudo-interface's entries are not: they name no hardware address at all.
    assert ("10.20.30.77", "00:00:00:00:00:00", "以太网", "unreachable") in table(entries)
    assert not [n for n in entries if n.address == "10.20.30.88" or "Loopback" in n.interface]


def test_windows_state_names_are_read_too() -> None:
    written = '{"IPAddress": "10.1.1.1", "LinkLayerAddress": "00-0F-E2-11-22-01", "InterfaceAlias": "Ethernet", "State": "Stale", "AddressFamily": "IPv4"}'
    from agent.platforms.windows.neighbours import NET_NEIGHBORS

    runner = ReplayRunner({NET_NEIGHBORS: written})
    entries = windows_adapter(runner).neighbours()
    assert table(entries) == [("10.1.1.1", "00:0f:e2:11:22:01", "Ethernet", "stale")]


def test_macos_reads_arp_and_ndp_with_dropped_zeros_and_zones() -> None:
    entries = MacOSAdapter(run=ventura()).neighbours()
    assert table(entries) == [
        ("172.20.10.1", "e2:33:8e:5a:41:64", "en7", ""),
        ("192.168.1.1", "a4:91:b1:2c:7e:10", "en0", ""),
        ("192.168.1.31", "00:1b:a9:04:05:06", "en0", ""),
        ("192.168.1.42", "f4:8e:38:07:08:09", "en0", ""),
        ("192.168.1.255", "ff:ff:ff:ff:ff:ff", "en0", ""),
        ("224.0.0.251", "01:00:5e:00:00:fb", "en7", "permanent"),
        ("239.255.255.250", "01:00:5e:7f:ff:fa", "en0", "permanent"),
        ("fe80::aede:48ff:fe00:1122", "ac:de:48:00:11:22", "en5", "permanent"),
        ("fe80::aede:48ff:fe33:4455", "ac:de:48:33:44:55", "en5", "stale"),
        ("fe80::1c8a:5f3e:9b2d:4e71", "3c:22:fb:8a:41:0e", "en0", "permanent"),
        ("fe80::a691:b1ff:fe2c:7e10", "a4:91:b1:2c:7e:10", "en0", "stale"),
        ("fe80::1", "e2:33:8e:5a:41:64", "en7", "stale"),
        ("fd00:1:2::1", "a4:91:b1:2c:7e:10", "en0", "reachable"),
        ("fd00:1:2::2a", "f4:8e:38:07:08:09", "en0", "stale"),
    ]


def test_a_mac_without_ipv6_still_gives_its_arp_table() -> None:
    runner = ventura({NDP: CommandError(NDP, "exit status 1: ndp: socket: Protocol not supported")})
    entries = MacOSAdapter(run=runner).neighbours()
    assert {n.family for n in entries} == {"ipv4"}


# --- what a report may carry ------------------------------------------------------------------


def test_only_devices_inside_the_allowed_networks_are_kept_in_address_order() -> None:
    entries = parse_ip_neigh_json((LINUX / "ip-j-neigh.json").read_text(encoding="utf-8"))
    kept = collector.select(entries, OFFICE)
    assert [(n.address, n.mac) for n in kept.entries] == [
        ("10.20.30.1", "00:0f:e2:11:22:01"),
        ("10.20.30.16", "f4:8e:38:07:08:09"),
        ("10.20.30.40", "00:1b:a9:44:55:66"),
        ("10.20.30.250", "00:1b:21:0a:0b:0c"),
        ("fd20:30::1", "00:0f:e2:11:22:01"),
        ("fd20:30::16", "f4:8e:38:07:08:09"),
    ]  # not the home router on wlan0, nor fe80:: (the policy does not list link-local)
    assert kept.networks == ("10.20.30.0/24", "fd20:30::/64") and kept.left_out == 0


def test_group_addresses_failed_entries_and_the_pcs_own_cards_are_left_out() -> None:
    windows = windows_adapter(ReplayRunner()).neighbours()
    kept = collector.select(windows, nets("10.20.30.0/24", "224.0.0.0/4", "fd20:30::/64"))
    assert [n.address for n in kept.entries] == [
        "10.20.30.1",
        "10.20.30.16",
        "10.20.30.40",
        "fd20:30::1",
        "fd20:30::16",
    ]  # not .77 (unreachable), .255 (broadcast), 224.0.0.x (multicast)
    mac = MacOSAdapter(run=ventura()).neighbours()
    own = frozenset({"3c:22:fb:8a:41:0e", "ac:de:48:00:11:22"})  # en0 and en5 of this Mac
    kept = collector.select(mac, nets("192.168.1.0/24", "fe80::/10"), own)
    assert [n.address for n in kept.entries] == [
        "192.168.1.1",
        "192.168.1.31",
        "192.168.1.42",
        "fe80::1",
        "fe80::a691:b1ff:fe2c:7e10",
        "fe80::aede:48ff:fe33:4455",
    ]


def test_the_list_is_bounded_and_says_how_many_were_left_out() -> None:
    many = [
        Neighbour(
            "ipv4",
            f"10.9.{i // 250}.{i % 250 + 1}",
            f"02:00:00:00:{i >> 8:02x}:{i & 255:02x}",
            "eth0",
            "stale",
        )
        for i in reversed(range(300))
    ]
    kept = collector.select(many, nets("10.9.0.0/16"))
    assert len(kept.entries) == collector.MAX_ENTRIES == 256
    assert kept.left_out == 44
    assert kept.entries[0].address == "10.9.0.1"  # lowest addresses first, whatever the order read


def test_a_policy_without_allowed_networks_gets_no_neighbours_reported() -> None:
    class Platform:
        name = "linux"

        def neighbours(self) -> tuple[Neighbour, ...]:
            raise AssertionError("the table must not even be read")

    context = CollectContext(
        platform=Platform(),  # type: ignore[arg-type]
        asset=AssetFields(),
        now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc),
        neighbour_networks=(),
    )
    facts = collector.collect(context)
    assert facts.entries == () and facts.networks == ()

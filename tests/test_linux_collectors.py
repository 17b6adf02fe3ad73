"""The Linux collectors tell the truth about this very machine."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.collectors import collect_inventory, host, network, processes, software
from agent.collectors.base import CollectContext
from agent.errors import CommandError
from agent.facts import AssetFields, InterfaceKind
from agent.platforms.linux import LinuxAdapter

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def context(adapter: LinuxAdapter | None = None) -> CollectContext:
    return CollectContext(
        platform=adapter or LinuxAdapter(),
        asset=AssetFields(machine_number="T-1"),
        now=dt.datetime.now(dt.timezone.utc),
    )


def test_software_inventory_equals_dpkg_query_package_for_package() -> None:
    listed = subprocess.run(
        ["dpkg-query", "-W", "-f", "${binary:Package}\t${Version}\t${db:Status-Status}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = {
        tuple(line.split("\t")[:2]) for line in listed.splitlines() if line.endswith("\tinstalled")
    }
    multi_arch_same = set(
        subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package}\t${Multi-Arch}\t${Architecture}\n"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    )
    qualified = {line.split("\t")[0] for line in multi_arch_same if "\tsame\t" in line}
    found = {
        (f"{s.name}:{s.architecture}" if s.name in qualified else s.name, s.version)
        for s in software.collect(context())
    }
    assert len(expected) > 50
    assert found == expected


def test_every_package_is_attributed_to_dpkg_with_a_maintainer() -> None:
    packages = software.collect(context())
    assert {p.source for p in packages} == {"dpkg"}
    assert all(p.publisher for p in packages)
    assert all(dt.date.fromisoformat(p.install_date) for p in packages)


def test_interfaces_equal_ip_addr() -> None:
    shown = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, check=True).stdout)
    facts = {i.name: i for i in network.collect(context()).interfaces}
    assert set(facts) == {entry["ifname"] for entry in shown}
    for entry in shown:
        iface = facts[entry["ifname"]]
        expected = {(a["local"], a["prefixlen"]) for a in entry.get("addr_info", [])}
        assert {(a.address, a.prefix_length) for a in iface.addresses} == expected, entry["ifname"]
        assert iface.is_up == ("UP" in entry["flags"]), entry["ifname"]
        if entry.get("link_type") == "ether":
            assert iface.mac == entry["address"]
    assert facts["lo"].kind is InterfaceKind.LOOPBACK


def test_default_routes_equal_ip_route() -> None:
    facts = network.collect(context())
    for family, flag in (("ipv4", "-4"), ("ipv6", "-6")):
        shown = json.loads(
            subprocess.run(
                ["ip", "-j", flag, "route", "show", "default"], capture_output=True, check=True
            ).stdout
        )
        expected = {(r.get("gateway", ""), r["dev"]) for r in shown}
        found = {(r.gateway, r.interface) for r in facts.default_routes if r.family == family}
        assert found == expected


def test_dns_servers_come_from_resolv_conf() -> None:
    lines = Path("/etc/resolv.conf").read_text().splitlines()
    listed = [line.split()[1] for line in lines if line.startswith("nameserver")]
    assert list(network.collect(context()).dns_servers)[: len(listed)] == listed


def test_processes_include_a_child_of_this_test() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.2)
        found = [p for p in processes.collect(context()) if p.pid == child.pid]
        assert len(found) == 1
        assert Path(found[0].exe).resolve() == Path(sys.executable).resolve()
        assert found[0].user
    finally:
        child.kill()
        child.wait()


def test_host_identity_matches_the_machine() -> None:
    facts = host.collect(context())
    assert facts.machine_id == Path("/etc/machine-id").read_text().strip()
    assert facts.platform == "linux"
    assert facts.os_name and facts.kernel
    assert facts.asset.machine_number == "T-1"
    assert all(ipaddress.ip_address(ip) for ip in facts.ip_addresses)
    assert "127.0.0.1" not in facts.ip_addresses


def test_a_failing_collector_becomes_an_error_and_the_others_go_on(tmp_path: Path) -> None:
    def no_commands(argv: object, timeout: float = 10.0) -> str:
        raise CommandError(["rpm"], "command not found")

    broken = LinuxAdapter(root=tmp_path, run=no_commands)
    inventory = collect_inventory(context(broken))
    assert inventory.software is None
    assert "rpm" in inventory.errors["software"]
    assert inventory.services is None and "services" in inventory.errors
    assert inventory.processes  # psutil still works
    assert inventory.host is not None


def test_the_socket_precheck_sees_a_connection_to_a_global_address(tmp_path: Path) -> None:
    from agent.platforms.linux.netinfo import any_external_socket

    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
    # 10.12.3.17:50312 -> 220.181.38.148:443 established; 127.0.0.1:22 listening.
    (tmp_path / "tcp").write_text(
        header
        + "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
        + "   1: 11030C0A:C488 9426B5DC:01BB 01 00000000:00000000 00:00000000 00000000  1000\n"
    )
    assert any_external_socket(tmp_path) is True
    (tmp_path / "tcp").write_text(
        header + "   1: 11030C0A:C488 0100000A:01BB 01 00000000:00000000 00:00000000 00000000 0\n"
    )
    assert any_external_socket(tmp_path) is False


def test_the_socket_precheck_reads_ipv4_mapped_ipv6_and_udp(tmp_path: Path) -> None:
    from agent.platforms.linux.netinfo import any_external_socket

    header = (
        "  sl  local_address                         remote_address                        st\n"
    )
    # ::ffff:220.181.38.148 as the kernel prints it: four little-endian 32-bit words.
    mapped = "0000000000000000FFFF00009426B5DC"
    (tmp_path / "tcp6").write_text(header + f"   0: {'0' * 32}:C488 {mapped}:01BB 01 0\n")
    assert any_external_socket(tmp_path) is True
    (tmp_path / "tcp6").write_text(header)
    # A connected UDP socket to a public DNS server (114.114.114.114:53).
    (tmp_path / "udp").write_text(header + "   0: 11030C0A:D431 72727272:0035 01 0\n")
    assert any_external_socket(tmp_path) is True


# /proc/net/ipv6_route as a Debian 12 kernel writes it (copied from a real machine): the main
# table's prefix, link-local and default routes, then the local table's entries for the
# machine's own addresses (flags 80200001: RTF_LOCAL | RTF_NONEXTHOP | RTF_UP), the multicast
# route and the unreachable default on lo.
_IPV6_ROUTE = """\
fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0
fe8000000000000000fc00fffe000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
"""


def test_ipv6_routes_leave_out_the_entries_for_the_machines_own_addresses(tmp_path: Path) -> None:
    """The own-address entries appear once duplicate address detection ends: were they routes,
    an unchanged machine would send a full report instead of a heartbeat."""
    from agent.platforms.linux.netinfo import read_routes

    (tmp_path / "ipv6_route").write_text(_IPV6_ROUTE, encoding="ascii")
    routes = [(r.destination, r.gateway, r.interface, r.metric) for r in read_routes(tmp_path)]
    assert routes == [
        ("fd00::/64", "", "eth0", 256),
        ("fe80::/64", "", "eth0", 256),
        ("::/0", "fd00::1", "eth0", 1024),
        ("ff00::/8", "", "eth0", 256),
    ]

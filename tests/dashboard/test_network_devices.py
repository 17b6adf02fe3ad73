"""Devices on the units' networks that nobody registered (网内未注册设备): from the agents'
neighbour tables (reports through the real API) and from imported lease files, on the page,
marked as known, scoped and audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from server.accounts.models import AuditEntry
from server.fleet.models import Host, HostStatus
from server.sightings.listing import rows_for
from server.sightings.models import Device, Sighting, SightingImport
from tests.dashboard.seed import Machine, client_for, page_text
from tests.server.agents import utc_now

pytestmark = pytest.mark.server

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sightings"
GATEWAY = ("10.11.0.1", "00:0f:e2:11:22:01")  # H3C
PRINTER = ("10.11.0.40", "00:1b:a9:44:55:66")  # Brother
PC_A = Machine(hostname="pc-a", ip="10.11.0.17", mac="52:54:00:00:00:0a", machine_number="A")
PC_B = Machine(hostname="pc-b", ip="10.11.0.18", mac="52:54:00:00:00:0b", machine_number="B")
DEVICES = "/network-devices/"


def with_neighbours(machine: Machine, *neighbours: tuple[str, str]) -> Machine:
    return dataclasses.replace(machine, neighbours=neighbours)


def two_pcs(world: Any, fleet: Any) -> list[Any]:
    """pc-a sees the gateway, the printer and pc-b; pc-b sees the gateway and pc-a."""
    return fleet.machines(
        world.office,
        with_neighbours(PC_A, GATEWAY, PRINTER, (PC_B.ip, PC_B.mac)),
        with_neighbours(PC_B, GATEWAY, (PC_A.ip, PC_A.mac)),
    )


def listed(user: Any, query: str = "") -> str:
    response = client_for(user).get(DEVICES + query)
    assert response.status_code == 200
    return page_text(response.content)


def test_neighbours_no_enrolled_host_is_are_listed_with_their_vendor(
    world: Any, fleet: Any
) -> None:
    two_pcs(world, fleet)
    text = listed(world.admin)
    assert "00:0f:e2:11:22:01" in text and "Hangzhou H3C Technologies" in text
    assert "00:1b:a9:44:55:66" in text and "Brother industries" in text
    assert "52:54:00:00:00:0a" not in text and "52:54:00:00:00:0b" not in text  # enrolled
    assert "2 devices" in text
    # one device per MAC per unit, one sighting per agent that saw it
    assert Device.objects.count() == 4
    gateway = Device.objects.get(mac=GATEWAY[1])
    assert sorted(gateway.sightings.values_list("host__hostname", flat=True)) == ["pc-a", "pc-b"]
    assert gateway.unit == world.office and gateway.last_ip == "10.11.0.1"


def test_the_page_speaks_chinese_and_names_the_finding(world: Any, fleet: Any) -> None:
    two_pcs(world, fleet)
    response = client_for(world.admin, "zh-hans").get(DEVICES)
    text = page_text(response.content)
    assert "网内未注册设备" in text and "标记为已知" in text


def test_reports_update_the_rows_in_place_and_a_device_that_left_is_no_longer_current(
    world: Any, fleet: Any
) -> None:
    pc_a, _ = two_pcs(world, fleet)
    rows = (Device.objects.count(), Sighting.objects.count())
    for day in range(1, 4):  # unchanged: heartbeats, nothing written here
        fleet.report(pc_a, at=utc_now() + dt.timedelta(minutes=day))
    assert (Device.objects.count(), Sighting.objects.count()) == rows
    fleet.report(pc_a, with_neighbours(PC_A, GATEWAY, (PC_B.ip, PC_B.mac)))  # printer gone
    assert (Device.objects.count(), Sighting.objects.count()) == rows
    printer = Sighting.objects.get(device__mac=PRINTER[1])
    assert not printer.current
    assert Sighting.objects.get(device__mac=GATEWAY[1], host__hostname="pc-a").current
    assert "no longer" in listed(world.admin)


def test_last_seen_follows_an_agents_heartbeats_while_it_still_sees_the_device(
    world: Any, fleet: Any
) -> None:
    pc_a, _ = two_pcs(world, fleet)
    reported = Device.objects.get(mac=PRINTER[1]).last_seen
    fleet.report(pc_a, at=utc_now() + dt.timedelta(minutes=5))  # a heartbeat
    host = Host.objects.get(hostname="pc-a")
    (row,) = rows_for([Device.objects.get(mac=PRINTER[1])])
    assert row.still_seen and row.last_seen == host.last_seen > reported


def test_a_revoked_hosts_mac_is_an_unregistered_device_again(world: Any, fleet: Any) -> None:
    two_pcs(world, fleet)
    Host.objects.filter(hostname="pc-b").update(status=HostStatus.REVOKED)
    assert "52:54:00:00:00:0b" in listed(world.admin)


def test_hostile_neighbour_entries_are_dropped_or_shown_as_text(world: Any, fleet: Any) -> None:
    hostile = [
        ("10.11.0.66", "<script>alert(1)</script>"),
        ("not an address", "00:1b:21:00:00:66"),
        ("10.11.0.255", "ff:ff:ff:ff:ff:ff"),
        ("224.0.0.251", "01:00:5e:00:00:fb"),
    ]
    pc = fleet.enroll(world.office, with_neighbours(PC_A, GATEWAY, *hostile))
    fleet.report(pc)
    assert list(Device.objects.values_list("mac", flat=True)) == [GATEWAY[1]]
    # an interface name carrying markup is stored and shown as text, never as markup
    Sighting.objects.update(where='<img src=x onerror="alert(1)">')
    content = client_for(world.admin).get(DEVICES).content.decode()
    assert "<img src=x" not in content and "&lt;img src=x" in content


def test_users_see_only_their_subtrees_devices(world: Any, fleet: Any) -> None:
    two_pcs(world, fleet)
    assert "0 devices" in listed(world.other_admin)
    gateway = Device.objects.get(mac=GATEWAY[1])
    answer = client_for(world.other_admin).post(
        f"{DEVICES}{gateway.pk}/known/", {"kind": "gateway"}
    )
    assert answer.status_code == 404
    assert "00:0f:e2:11:22:01" in listed(world.auditor)


def test_an_admin_marks_infrastructure_as_known_and_it_leaves_the_list_audited(
    world: Any, fleet: Any
) -> None:
    two_pcs(world, fleet)
    gateway = Device.objects.get(mac=GATEWAY[1])
    url = f"{DEVICES}{gateway.pk}/known/"
    assert client_for(world.auditor).post(url, {"kind": "gateway"}).status_code == 403
    answer = client_for(world.admin).post(url, {"kind": "gateway", "note": "三楼核心交换机 网关"})
    assert answer.status_code == 302
    gateway.refresh_from_db()
    assert (gateway.known_as, gateway.known_note, gateway.known_by) == (
        "gateway",
        "三楼核心交换机 网关",
        "user:wang",
    )
    entry = AuditEntry.objects.filter(action="sightings.mark_known").get()
    assert entry.target == "device:00:0f:e2:11:22:01" and entry.details["kind"] == "gateway"
    assert "00:0f:e2:11:22:01" not in listed(world.admin)
    assert "00:0f:e2:11:22:01" in listed(world.admin, "?show=known")
    client_for(world.admin).post(f"{DEVICES}{gateway.pk}/unknown/")
    assert AuditEntry.objects.filter(action="sightings.unmark_known").count() == 1
    assert "00:0f:e2:11:22:01" in listed(world.admin)


def test_marking_needs_a_kind_of_device(world: Any, fleet: Any) -> None:
    two_pcs(world, fleet)
    gateway = Device.objects.get(mac=GATEWAY[1])
    client_for(world.admin).post(f"{DEVICES}{gateway.pk}/known/", {"kind": "toaster"})
    gateway.refresh_from_db()
    assert gateway.known_as == "" and not AuditEntry.objects.filter(action="sightings.mark_known")


def test_search_finds_a_device_by_mac_in_any_notation_ip_or_vendor(world: Any, fleet: Any) -> None:
    two_pcs(world, fleet)
    for query in ("001b.a944.5566", "00-1B-A9-44-55-66", "10.11.0.40", "brother"):
        text = listed(world.admin, f"?q={query}")
        assert "00:1b:a9:44:55:66" in text and "00:0f:e2:11:22:01" not in text, query


def upload(name: str, import_format: str, unit: Any, source: str = "") -> dict[str, Any]:
    data = (FIXTURES / name).read_bytes()
    return {
        "unit": unit.pk,
        "import_format": import_format,
        "source": source,
        "file": SimpleUploadedFile(name, data),
    }


def test_an_admin_imports_dhcp_leases_and_their_devices_are_listed(world: Any, fleet: Any) -> None:
    two_pcs(world, fleet)
    answer = client_for(world.admin).post(
        f"{DEVICES}import/", upload("dhcpd.leases", "dhcpd", world.office, "DHCP 服务器")
    )
    assert answer.status_code == 201, page_text(answer.content)
    text = page_text(answer.content)
    assert (
        "5 devices from DHCP 服务器 imported into 北京市/海淀区/网信办 (4 seen for the first time)"
        in text
    )
    assert "line 77" in text
    imported = SightingImport.objects.get()
    assert (imported.rows, imported.imported_by) == (5, "user:wang")
    entry = AuditEntry.objects.filter(action="sightings.import").get()
    assert entry.details["source"] == "DHCP 服务器" and entry.details["problems"] == 1
    listing = listed(world.admin)
    assert "DESKTOP-7Q2K9L" in listing and "DHCP 服务器" in listing
    # the same source again: the same rows, updated
    client_for(world.admin).post(
        f"{DEVICES}import/", upload("dhcpd.leases", "dhcpd", world.office, "DHCP 服务器")
    )
    assert Sighting.objects.filter(source="DHCP 服务器").count() == 5


def test_imports_need_an_admin_of_the_unit_and_a_readable_file(world: Any) -> None:
    answer = client_for(world.auditor).post(
        f"{DEVICES}import/", upload("dhcpd.leases", "dhcpd", world.office)
    )
    assert answer.status_code == 403
    answer = client_for(world.other_admin).post(
        f"{DEVICES}import/", upload("dhcpd.leases", "dhcpd", world.office)
    )
    assert answer.status_code == 404
    answer = client_for(world.admin).post(
        f"{DEVICES}import/", upload("kea-leases4.csv", "dhcpd", world.office)
    )
    assert answer.status_code == 400
    assert "not a dhcpd.leases file" in page_text(answer.content)
    assert not Device.objects.exists() and not AuditEntry.objects.filter(action="sightings.import")


def test_hostile_lease_hostnames_are_shown_as_text(world: Any) -> None:
    lease = 'lease 10.11.0.9 {\n  hardware ethernet 00:1b:21:00:00:09;\n  client-hostname "<b onmouseover=alert(1)>x</b>";\n}\n'
    data = {
        "unit": world.office.pk,
        "import_format": "dhcpd",
        "file": SimpleUploadedFile("x.leases", lease.encode()),
    }
    assert client_for(world.admin).post(f"{DEVICES}import/", data).status_code == 201
    content = client_for(world.admin).get(DEVICES).content.decode()
    assert (
        "<b onmouseover" not in content and "&lt;b onmouseover=alert(1)&gt;x&lt;/b&gt;" in content
    )


def test_the_list_as_json_from_the_cli_matches_the_page(
    world: Any, fleet: Any, capsys: Any
) -> None:
    from server.sightings.cli import _list

    two_pcs(world, fleet)
    args = type("Args", (), {"unit": world.county.path, "show": "unregistered", "format": "json"})
    assert _list(args) == 0  # type: ignore[arg-type]
    document = json.loads(capsys.readouterr().out)
    assert sorted(item["mac"] for item in document) == [GATEWAY[1], PRINTER[1]]
    assert {item["unit"] for item in document} == {world.office.path}
    assert all(item["seen_by"] for item in document)

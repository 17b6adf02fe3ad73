"""The asset register: duplicate IPs and MACs, IP and machine-number conflicts both ways,
incomplete records, gateways and DNS servers that no enrolled host is, and what the page
says the data cannot show."""

from __future__ import annotations

from typing import Any

import pytest

from server.fleet.models import Host, HostStatus
from tests.dashboard.seed import Machine, client_for, links_to, page_text

pytestmark = pytest.mark.server


@pytest.fixture
def register(world: Any, fleet: Any) -> Any:
    fleet.machines(
        world.office,
        Machine(hostname="pc-a", ip="10.11.0.10", mac="52:54:00:00:00:0a", machine_number="BJ-001"),
        # same IP as pc-a, another machine number
        Machine(hostname="pc-b", ip="10.11.0.10", mac="52:54:00:00:00:0b", machine_number="BJ-002"),
        # same MAC as pc-a (a cloned VM), same number as pc-d with another IP
        Machine(hostname="pc-c", ip="10.11.0.12", mac="52:54:00:00:00:0a", machine_number="BJ-003"),
        Machine(hostname="pc-d", ip="10.11.0.13", mac="52:54:00:00:00:0d", machine_number="BJ-003"),
        # no person responsible; its gateway is pc-a (enrolled), its DNS a server nobody is
        Machine(
            hostname="pc-e",
            ip="10.11.0.14",
            mac="52:54:00:00:00:0e",
            machine_number="BJ-005",
            responsible_person="",
            gateway="10.11.0.10",
            dns="10.11.0.53",
        ),
    )
    fleet.machines(
        world.other_office,
        Machine(hostname="pc-z", ip="10.11.0.10", mac="52:54:00:00:00:0a", machine_number="BJ-001"),
    )
    return client_for(world.admin).get("/assets/")


def hostnames(group: Any) -> set[str]:
    return {ref.hostname for ref in group.hosts}


def test_duplicate_ip_and_mac_addresses_are_listed_with_their_hosts(register: Any) -> None:
    data = register.context["register"]

    assert [(g.key, hostnames(g)) for g in data.duplicate_ips.items] == [
        ("10.11.0.10", {"pc-a", "pc-b"})
    ]
    assert [(g.key, hostnames(g)) for g in data.duplicate_macs.items] == [
        ("52:54:00:00:00:0a", {"pc-a", "pc-c"})
    ]


def test_ip_and_machine_number_conflicts_are_found_both_ways(register: Any) -> None:
    data = register.context["register"]

    (by_ip,) = data.ip_number_conflicts.items
    assert (by_ip.key, by_ip.values) == ("10.11.0.10", ["BJ-001", "BJ-002"])
    (by_number,) = data.number_ip_conflicts.items
    assert (by_number.key, by_number.values, hostnames(by_number)) == (
        "BJ-003",
        ["10.11.0.12", "10.11.0.13"],
        {"pc-c", "pc-d"},
    )


def test_incomplete_records_name_the_missing_fields_and_link_to_the_hosts_list(
    world: Any, register: Any
) -> None:
    data = register.context["register"]

    assert [(item.host.hostname, item.missing) for item in data.incomplete.items] == [
        ("pc-e", ["responsible_person"])
    ]
    link = next(
        href for href, _ in links_to(register.content, "/hosts/") if "missing=asset" in href
    )
    listed = client_for(world.admin).get(link)
    assert [host.hostname for host in listed.context["page"]] == ["pc-e"]


def test_gateways_and_dns_servers_that_no_enrolled_host_has_are_seen_but_not_enrolled(
    register: Any,
) -> None:
    neighbours = {item.address: item for item in register.context["register"].neighbours.items}

    assert set(neighbours) == {"10.11.0.1", "10.11.0.2", "10.11.0.53"}
    assert neighbours["10.11.0.1"].roles == ["gateway"] and neighbours["10.11.0.1"].named_by == 4
    assert neighbours["10.11.0.53"].roles == ["dns"] and neighbours["10.11.0.53"].named_by == 1
    assert "10.11.0.10" not in neighbours  # a gateway that is an enrolled host


def test_the_page_says_what_the_data_can_and_cannot_show(register: Any) -> None:
    text = page_text(register.content)

    assert "What these checks can and cannot show" in text
    assert "are on the “Network devices” page" in text
    assert "5 hosts in service checked" in text


def test_revoked_hosts_and_other_counties_are_left_out(world: Any, register: Any) -> None:
    Host.objects.filter(hostname="pc-b").update(status=HostStatus.REVOKED)

    data = client_for(world.admin).get("/assets/").context["register"]

    assert data.duplicate_ips.items == [] and data.hosts == 4
    other = client_for(world.other_admin).get("/assets/").context["register"]
    assert other.hosts == 1 and other.duplicate_macs.items == []


def test_the_register_narrows_to_a_unit_and_refuses_one_out_of_scope(
    world: Any, register: Any
) -> None:
    browser = client_for(world.admin)

    assert browser.get(f"/assets/?unit={world.school.pk}").context["register"].hosts == 0
    assert browser.get(f"/assets/?unit={world.other_office.pk}").status_code == 404
    superuser = client_for(world.superuser).get(f"/assets/?unit={world.province.pk}")
    assert [hostnames(g) for g in superuser.context["register"].duplicate_ips.items] == [
        {"pc-a", "pc-b", "pc-z"}
    ]

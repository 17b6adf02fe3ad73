"""The hosts list: filters (unit subtree, status, compliance, category, policy, rule),
search (host name, IP, MAC, machine number, person), sortable columns, 50 a page, filters
kept in the query string, and nothing outside the user's scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from server.fleet.models import Host, HostStatus
from tests.dashboard.seed import Machine, client_for, links_to, page_text

pytestmark = pytest.mark.server


def machine(number: int, **changes: Any) -> Machine:
    values: dict[str, Any] = {
        "hostname": f"pc-{number:04d}",
        "ip": f"10.11.0.{number}",
        "mac": f"52:54:00:00:00:{number:02x}",
        "machine_number": f"BJ-2026-{number:04d}",
        **changes,
    }
    return Machine(**values)


def names(response: Any) -> list[str]:
    return [host.hostname for host in response.context["page"]]


@pytest.fixture
def hosts(world: Any, fleet: Any) -> dict[str, Any]:
    office = fleet.machines(
        world.office,
        machine(1, responsible_person="李四"),
        machine(2, vrv_running=False),
        machine(3, unregistered_stick=True, department=""),
    )
    school = fleet.machines(world.school, machine(4, wifi_card=True))
    other = fleet.machines(world.other_office, machine(5))
    return {"office": office, "school": school, "other": other}


def test_the_list_shows_the_hosts_in_scope_sorted_by_host_name(world: Any, hosts: Any) -> None:
    response = client_for(world.admin).get("/hosts/")

    assert response.status_code == 200
    assert names(response) == ["pc-0001", "pc-0002", "pc-0003", "pc-0004"]


def test_filtering_by_unit_takes_the_units_below_it_too(world: Any, hosts: Any) -> None:
    browser = client_for(world.superuser)

    assert names(browser.get(f"/hosts/?unit={world.school.pk}")) == ["pc-0004"]
    assert len(names(browser.get(f"/hosts/?unit={world.county.pk}"))) == 4
    assert len(names(browser.get(f"/hosts/?unit={world.province.pk}"))) == 5


def test_a_unit_outside_the_users_scope_answers_404(world: Any, hosts: Any) -> None:
    browser = client_for(world.admin)

    assert browser.get(f"/hosts/?unit={world.other_office.pk}").status_code == 404
    assert browser.get("/hosts/?unit=not-a-number").status_code == 404


def test_hosts_of_another_county_never_appear(world: Any, hosts: Any) -> None:
    browser = client_for(world.other_admin)

    assert names(browser.get("/hosts/")) == ["pc-0005"]
    assert names(browser.get("/hosts/?q=pc-0001")) == []


def test_filtering_by_status_compliance_and_category(world: Any, hosts: Any) -> None:
    Host.objects.filter(hostname="pc-0001").update(status=HostStatus.SILENT)
    Host.objects.filter(hostname="pc-0004").update(clone_suspected_at=timezone.now())
    browser = client_for(world.admin)

    assert names(browser.get("/hosts/?status=silent")) == ["pc-0001"]
    assert names(browser.get("/hosts/?status=clone")) == ["pc-0004"]
    assert names(browser.get("/hosts/?compliance=compliant")) == ["pc-0001"]
    assert names(browser.get("/hosts/?compliance=noncompliant")) == [
        "pc-0002",
        "pc-0003",
        "pc-0004",
    ]
    assert names(browser.get("/hosts/?category=media")) == ["pc-0003"]
    assert names(browser.get("/hosts/?category=internet")) == ["pc-0004"]
    assert names(browser.get("/hosts/?category=asset")) == ["pc-0003"]


def test_an_unknown_filter_value_is_ignored_rather_than_an_error(world: Any, hosts: Any) -> None:
    response = client_for(world.admin).get("/hosts/?status=bogus&compliance=x&sort=password")

    assert response.status_code == 200
    assert len(names(response)) == 4


def test_filtering_by_policy_and_version(world: Any, hosts: Any) -> None:
    Host.objects.filter(hostname="pc-0002").update(policy_version="2026.10")
    browser = client_for(world.admin)

    response = browser.get("/hosts/?policy=intranet-office@2026.10")
    assert names(response) == ["pc-0002"]
    assert len(names(browser.get("/hosts/?policy=intranet-office"))) == 4
    assert names(browser.get("/hosts/?policy=internet-cafe")) == []
    options = [value for value, _ in response.context["policies"]]
    assert options == ["intranet-office", "intranet-office@2026.10", "intranet-office@2026.11"]


def test_filtering_by_a_rule_and_its_result(world: Any, hosts: Any) -> None:
    browser = client_for(world.admin)
    rule = "rule=terminal-registration-client"

    assert names(browser.get(f"/hosts/?{rule}&finding=fail")) == ["pc-0002"]
    assert names(browser.get(f"/hosts/?{rule}&running=no")) == ["pc-0002"]
    assert len(names(browser.get(f"/hosts/?{rule}&installed=yes"))) == 4
    assert names(browser.get("/hosts/?missing=asset")) == ["pc-0003"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pc-0003", ["pc-0003"]),
        ("PC-000", ["pc-0001", "pc-0002", "pc-0003", "pc-0004"]),
        ("10.11.0.2", ["pc-0002"]),
        ("52:54:00:00:00:04", ["pc-0004"]),
        ("52-54-00-00-00-04", ["pc-0004"]),
        ("525400000001", ["pc-0001"]),
        ("BJ-2026-0002", ["pc-0002"]),
        ("李四", ["pc-0001"]),
        ("nothing-like-this", []),
    ],
)
def test_search_finds_hosts_by_name_address_machine_number_or_person(
    world: Any, hosts: Any, query: str, expected: list[str]
) -> None:
    response = client_for(world.admin).get("/hosts/", {"q": query})

    assert names(response) == expected


def test_search_by_host_id(world: Any, hosts: Any) -> None:
    host_id = hosts["school"][0].agent.host_id

    assert names(client_for(world.admin).get("/hosts/", {"q": host_id})) == ["pc-0004"]


def test_columns_sort_both_ways_and_say_so(world: Any, hosts: Any) -> None:
    browser = client_for(world.admin)

    by_failed = browser.get("/hosts/?sort=-failed")
    assert names(by_failed)[-1] == "pc-0001"
    assert names(browser.get("/hosts/?sort=-hostname"))[0] == "pc-0004"
    by_unit = [host.unit.path for host in browser.get("/hosts/?sort=unit").context["page"]]
    by_unit_reversed = [
        host.unit.path for host in browser.get("/hosts/?sort=-unit").context["page"]
    ]
    assert by_unit == by_unit_reversed[::-1] and len(set(by_unit)) == 2
    assert 'aria-sort="descending"' in by_failed.content.decode()
    headings = {text: href for href, text in links_to(by_failed.content, "")}
    assert "sort=failed" in headings["Failing"]  # a second click reverses the order


def test_fifty_hosts_a_page_with_the_filters_kept_in_the_page_links(world: Any, fleet: Any) -> None:
    pc = fleet.enroll(world.office, machine(1))
    fleet.report(pc)
    template = Host.objects.get(pk=pc.host.pk)
    for number in range(2, 61):
        template.pk = None
        template.host_id = f"h_{number:032x}"
        template.hostname = f"pc-{number:04d}"
        template.save()
    browser = client_for(world.admin)

    first = browser.get("/hosts/?compliance=compliant&sort=hostname")
    assert len(first.context["page"]) == 50
    assert first.context["page"].paginator.count == 60
    next_links = [href for href, text in links_to(first.content, "") if text == "Next"]
    assert next_links == ["?compliance=compliant&sort=hostname&page=2"]
    second = browser.get("/hosts/" + next_links[0])
    assert names(second)[0] == "pc-0051" and len(names(second)) == 10


def test_the_list_shows_status_compliance_and_policy_of_each_host(world: Any, hosts: Any) -> None:
    text = page_text(client_for(world.admin).get("/hosts/").content)

    assert "compliant" in text and "intranet-office 2026.11" in text
    assert "10.11.0.3" in text and "BJ-2026-0003" in text


def test_an_auditor_reads_the_list_and_an_anonymous_visitor_is_sent_to_sign_in(
    world: Any, hosts: Any
) -> None:
    assert len(names(client_for(world.auditor).get("/hosts/"))) == 4
    assert client_for(None).get("/hosts/").status_code == 302


def test_host_names_from_agents_are_escaped(world: Any, fleet: Any) -> None:
    fleet.machines(world.office, machine(9, hostname="<script>alert(1)</script>"))

    content = client_for(world.admin).get("/hosts/").content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content

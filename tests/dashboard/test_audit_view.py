"""The audit log page: entries about the user's own units and hosts only, newest first,
paginated, with the hash chain's verification status at the top."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from server.accounts import audit
from server.accounts.models import AuditEntry
from server.administration.audit_log import visible_entries
from server.fleet.tokens import create_token
from tests.dashboard.actions_world import enroll, signed_in
from tests.dashboard.seed import client_for, page_text

pytestmark = pytest.mark.server


@pytest.fixture(autouse=True)
def fresh_chain_status() -> None:
    cache.clear()  # the chain status is cached per newest entry


def test_an_admin_reads_the_entries_of_their_units_and_hosts_and_not_of_others(
    world: Any,
) -> None:
    mine = enroll(world.office, "pc-mine")
    theirs = enroll(world.other_office, "pc-theirs")
    create_token(world.other_office, 1, 1, "user:zhao", "朝阳区的令牌")

    page = signed_in(world.admin).get("/audit/").content.decode()

    assert mine.host_id in page  # host.enroll, target the host
    assert "北京市/海淀区/网信办" in page  # unit.add and token.create of the office
    assert theirs.host_id not in page
    assert "北京市/朝阳区" not in page


def test_the_superuser_reads_every_entry(world: Any) -> None:
    theirs = enroll(world.other_office, "pc-theirs")

    page = signed_in(world.superuser).get("/audit/").content.decode()

    assert theirs.host_id in page and "北京市/海淀区" in page


def test_own_actions_are_listed_even_when_they_name_no_unit(world: Any) -> None:
    audit.record("user:li", "snapshot.download", "a file with no unit", {})
    audit.record("user:zhao", "snapshot.download", "someone else's file", {})

    page = signed_in(world.auditor).get("/audit/").content.decode()

    assert "a file with no unit" in page
    assert "someone else&#x27;s file" not in page


def test_an_intact_chain_is_reported_as_verified_with_its_length_to_the_superuser(
    world: Any,
) -> None:
    page = client_for(world.superuser).get("/audit/").content.decode()

    assert "ad-chain-ok" in page
    assert f"{AuditEntry.objects.count()} entries" in page_text(page.encode())


def test_a_unit_admin_sees_counts_and_ids_of_their_own_entries_only(world: Any) -> None:
    """Was: the page told a county's admin how many entries the whole server had, and each
    entry's id, both of which count the other units' actions too."""
    for number in range(40):
        enroll(world.other_office, f"cy-pc-{number}")
    create_token(world.office, 1, 1, "user:wang", "网信办")
    total = AuditEntry.objects.count()
    newest = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    browser = client_for(world.admin)
    mine = visible_entries(world.admin).count()
    assert 0 < mine < total

    text = page_text(browser.get("/audit/").content)

    assert "Hash chain verified" in text
    assert f"{mine} entries are about your units or by you" in text
    assert str(total) not in text.split()
    assert str(newest) not in text.split()


def test_a_tampered_entry_shows_the_chain_broken_at_the_top(world: Any) -> None:
    victim = AuditEntry.objects.order_by("id")[1]
    with connection.cursor() as cursor:  # around the application, as an intruder would
        cursor.execute(
            "UPDATE accounts_auditentry SET actor = %s WHERE id = %s", ["cli:nobody", victim.id]
        )

    admin_page = signed_in(world.admin).get("/audit/").content.decode()
    root_page = signed_in(world.superuser).get("/audit/").content.decode()

    assert "ad-chain-broken" in admin_page
    assert f"{victim.id}" in root_page.split("ad-chain-broken", 1)[1].split("</p>", 1)[0]


def test_entries_are_paginated_newest_first_and_filterable(world: Any) -> None:
    for number in range(120):
        audit.record("user:wang", "test.bulk", f"北京市/海淀区 #{number:03d}", {})
    admin = signed_in(world.admin)

    first = admin.get("/audit/", {"action": "test.bulk"}).content.decode()
    second = admin.get("/audit/", {"action": "test.bulk", "page": "2"}).content.decode()

    assert "#119" in first and "#020" in first and "#019" not in first
    assert "#019" in second and "#000" in second
    assert "action=test.bulk&amp;page=2" in first
    assert "#005" in admin.get("/audit/", {"q": "#005"}).content.decode()


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    response = signed_in(None).get("/audit/")

    assert response.status_code == 302 and "/login/" in response["Location"]

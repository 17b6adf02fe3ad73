"""Enrollment tokens from the dashboard: created with uses, expiry and a note, the clear token
shown once on the response and never again; listed per scope; revoked."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from server.accounts.models import AuditEntry
from server.fleet.models import EnrollmentToken
from server.fleet.tokens import token_digest
from tests.dashboard.actions_world import signed_in
from tests.server.agents import SimulatedAgent

pytestmark = pytest.mark.server


def create(world: Any, client: Client | None = None, **fields: object) -> tuple[int, str]:
    """Status and page of a token creation by the county admin (or `client`)."""
    data = {"unit": world.office.pk, "uses": 3, "expires_days": 5, "note": "一楼机房"}
    data.update(fields)
    response = (client or signed_in(world.admin)).post("/tokens/", data)
    return response.status_code, response.content.decode()


def clear_token_on(page: str) -> str:
    return page.split('id="ad-clear-token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]


def test_a_new_token_is_shown_once_and_enrolls_a_pc_into_its_unit(world: Any) -> None:
    admin = signed_in(world.admin)
    response = admin.post(
        "/tokens/", {"unit": world.office.pk, "uses": 3, "expires_days": 5, "note": "一楼机房"}
    )

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    token = clear_token_on(response.content.decode())
    row = EnrollmentToken.objects.get()
    assert row.token_sha256 == token_digest(token)
    assert (row.unit, row.uses_left, row.note, row.created_by) == (
        world.office,
        3,
        "一楼机房",
        world.admin,
    )
    entry = AuditEntry.objects.get(action="token.create")
    assert (entry.actor, entry.target) == ("user:wang", f"token:{row.pk}")
    assert token not in admin.get("/tokens/").content.decode()
    assert token not in str(list(AuditEntry.objects.values_list("details", flat=True)))

    agent = SimulatedAgent()
    enrolled = Client().post(
        "/api/v1/enroll", data=agent.enrollment_body(token), content_type="application/json"
    )
    assert enrolled.status_code == 201
    row.refresh_from_db()
    assert row.uses_left == 2


def test_the_list_shows_unit_uses_expiry_state_and_creator(world: Any) -> None:
    create(world)

    page = signed_in(world.auditor).get("/tokens/").content.decode()

    for text in ("北京市/海淀区/网信办", "一楼机房", "wang"):
        assert text in page
    assert 'id="ad-clear-token"' not in page


def test_a_revoked_token_enrolls_nothing_and_the_revocation_is_audited(world: Any) -> None:
    _, page = create(world)
    token = clear_token_on(page)
    row = EnrollmentToken.objects.get()

    response = signed_in(world.admin).post(f"/tokens/{row.pk}/revoke/")

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditEntry.objects.get(action="token.revoke").actor == "user:wang"
    agent = SimulatedAgent()
    refused = Client().post(
        "/api/v1/enroll", data=agent.enrollment_body(token), content_type="application/json"
    )
    assert (refused.status_code, refused.json()["error"]) == (403, "token_revoked")


def test_tokens_of_another_county_are_neither_listed_nor_revocable(world: Any) -> None:
    create(world)
    row = EnrollmentToken.objects.get()
    outsider = signed_in(world.other_admin)

    assert "一楼机房" not in outsider.get("/tokens/").content.decode()
    assert outsider.post(f"/tokens/{row.pk}/revoke/").status_code == 404
    status, _ = create(world, outsider)
    assert status == 404
    row.refresh_from_db()
    assert row.revoked_at is None
    assert EnrollmentToken.objects.count() == 1


def test_an_auditor_sees_tokens_but_neither_creates_nor_revokes_them(world: Any) -> None:
    create(world)
    row = EnrollmentToken.objects.get()
    auditor = signed_in(world.auditor)

    status, _ = create(world, auditor)
    assert status == 403
    assert auditor.post(f"/tokens/{row.pk}/revoke/").status_code == 403
    assert EnrollmentToken.objects.count() == 1
    row.refresh_from_db()
    assert row.revoked_at is None


def test_out_of_range_uses_and_days_are_refused_with_the_form(world: Any) -> None:
    status, page = create(world, uses=0)
    status_days, _ = create(world, expires_days=400)

    assert (status, status_days) == (400, 400)
    assert not EnrollmentToken.objects.exists()
    assert 'id="ad-clear-token"' not in page


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    status, _ = create(world, signed_in(None))

    assert status == 302
    assert not EnrollmentToken.objects.exists()

"""Signing in and out: Django's views with a throttle and the audit log; the Django admin
signs in through them too, and manages users, units, memberships and enrollment tokens
(tokens: list and revoke only, never a token or its hash on screen)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from server.accounts.models import AuditEntry, LoginFailure, Membership, Unit
from server.fleet.models import EnrollmentToken
from server.fleet.tokens import create_token
from tests.dashboard.seed import PASSWORD, client_for, page_text

pytestmark = pytest.mark.server


def sign_in(browser: Client, username: str, password: str, **extra: Any) -> Any:
    return browser.post("/login/", {"username": username, "password": password, **extra}, **{})


def actions() -> list[tuple[str, str, str]]:
    return list(AuditEntry.objects.order_by("id").values_list("actor", "action", "target"))


def test_the_sign_in_page_is_a_labelled_form_in_chinese_by_default(world: Any) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").get("/login/")

    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="zh-hans">' in content
    assert "登录" in content
    assert '<label for="id_username">' in content and '<label for="id_password">' in content
    assert 'autocomplete="current-password"' in content


def test_signing_in_goes_to_the_overview_and_is_audited(world: Any) -> None:
    browser = Client()

    response = sign_in(browser, "wang", PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/"
    assert browser.get("/").status_code == 200
    assert ("user:wang", "user.login", "wang") in actions()


def test_signing_in_returns_to_the_page_asked_for_but_never_to_another_site(world: Any) -> None:
    assert sign_in(Client(), "wang", PASSWORD, next="/hosts/?status=silent")["Location"] == (
        "/hosts/?status=silent"
    )
    assert sign_in(Client(), "wang", PASSWORD, next="https://evil.example/")["Location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(world: Any) -> None:
    response = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), "wang", "wrong password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in page_text(response.content)
    assert LoginFailure.objects.filter(username="wang").count() == 1


def test_signing_out_takes_a_post_and_is_audited(world: Any) -> None:
    browser = client_for(world.admin)

    assert browser.get("/logout/").status_code == 405
    response = browser.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/login/"
    assert browser.get("/").status_code == 302
    assert ("user:wang", "user.logout", "wang") in actions()


def test_signing_out_needs_the_csrf_token(world: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.admin)

    assert browser.post("/logout/").status_code == 403


def test_every_page_carries_the_user_menu_and_the_language_switch(world: Any) -> None:
    content = client_for(world.auditor).get("/hosts/").content.decode()

    assert 'action="/logout/"' in content and 'action="/i18n/setlang/"' in content
    assert '<label for="language-select">' in content
    assert "Enrollment tokens" not in content  # an auditor does not act
    assert "Enrollment tokens" in client_for(world.admin).get("/hosts/").content.decode()


def test_the_language_switch_changes_the_language_of_the_next_page(world: Any) -> None:
    browser = client_for(world.admin, "en")

    response = browser.post("/i18n/setlang/", {"language": "zh-hans", "next": "/hosts/"})

    assert response.status_code == 302 and response["Location"] == "/hosts/"
    assert "主机" in page_text(browser.get("/hosts/").content)


# --- the Django admin ----------------------------------------------------------------------


def test_the_admin_signs_in_through_the_throttled_sign_in_page(world: Any) -> None:
    response = Client().get("/admin/")

    assert response.status_code == 302
    login = Client().get(response["Location"])
    assert login.status_code == 302 and login["Location"].startswith("/login/?next=")


def test_only_superusers_reach_the_admin(world: Any) -> None:
    assert client_for(world.superuser).get("/admin/").status_code == 200
    assert client_for(world.admin).get("/admin/").status_code == 302


def test_the_admin_lists_tokens_without_any_token_or_hash_and_revokes_them_audited(
    world: Any,
) -> None:
    row, token = create_token(world.office, uses=3, expires_days=7, actor="cli:test", note="楼层2")
    browser = client_for(world.superuser)

    listing = browser.get("/admin/fleet/enrollmenttoken/")
    detail = browser.get(f"/admin/fleet/enrollmenttoken/{row.pk}/change/")
    for response in (listing, detail):
        content = response.content.decode()
        assert response.status_code == 200
        assert token not in content and row.token_sha256 not in content
    assert browser.get("/admin/fleet/enrollmenttoken/add/").status_code == 403
    assert browser.get(f"/admin/fleet/enrollmenttoken/{row.pk}/delete/").status_code == 403

    response = browser.post(
        "/admin/fleet/enrollmenttoken/",
        {"action": "revoke", "_selected_action": [str(row.pk)]},
    )

    assert response.status_code == 302
    assert EnrollmentToken.objects.get(pk=row.pk).revoked_at is not None
    assert ("user:root", "token.revoke", f"token:{row.pk}") in actions()


def test_a_unit_added_in_the_admin_gets_its_path_and_an_audit_entry(world: Any) -> None:
    browser = client_for(world.superuser)

    response = browser.post(
        "/admin/accounts/unit/add/", {"name": "民政局", "parent": str(world.county.pk)}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Unit.objects.get(name="民政局").path == "北京市/海淀区/民政局"
    assert ("user:root", "unit.add", "北京市/海淀区/民政局") in actions()
    refused = browser.post("/admin/accounts/unit/add/", {"name": "a/b", "parent": ""})
    assert refused.status_code == 200 and not Unit.objects.filter(name="a/b").exists()


def test_memberships_changed_in_the_admin_are_audited(world: Any) -> None:
    browser = client_for(world.superuser)

    response = browser.post(
        "/admin/accounts/membership/add/",
        {"user": str(world.other_admin.pk), "unit": str(world.office.pk), "role": "auditor"},
    )

    assert response.status_code == 302
    assert Membership.objects.filter(user=world.other_admin, unit=world.office).exists()
    assert ("user:root", "membership.add", "zhao") in actions()


def test_the_admin_shows_the_login_failures_the_throttle_counts(world: Any) -> None:
    sign_in(Client(), "wang", "guess")

    content = client_for(world.superuser).get("/admin/accounts/loginfailure/").content.decode()

    assert "wang" in content

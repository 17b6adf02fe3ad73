"""Security headers and page hygiene: a strict Content-Security-Policy that the pages keep
to (no inline script or style, nothing from another origin), framing refused, cookies
HttpOnly and SameSite, and state changes only with CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from server.lib.csp import CONTENT_SECURITY_POLICY
from tests.dashboard.seed import Machine, client_for, parse

pytestmark = pytest.mark.server


@pytest.fixture
def pages(world: Any, fleet: Any) -> list[str]:
    (pc,) = fleet.machines(world.office, Machine(vrv_running=False, unregistered_stick=True))
    return [
        "/",
        f"/units/{world.office.pk}/",
        "/hosts/",
        f"/hosts/{pc.agent.host_id}/",
        "/violations/",
        "/violations/?rule=terminal-registration-client",
        "/assets/",
    ]


def test_the_policy_allows_only_this_origin_and_no_inline_code() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))

    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_every_dashboard_page_sends_the_security_headers(world: Any, pages: list[str]) -> None:
    browser = client_for(world.admin)
    for url in [*pages, "/admin/"]:
        response = browser.get(url)
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]
    login = Client().get("/login/")
    assert login["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_pages_keep_to_the_policy_no_inline_script_no_style_attribute_no_other_origin(
    world: Any, pages: list[str]
) -> None:
    browser = client_for(world.admin)
    for url in [*pages, "/violations/?rule=no-unregistered-storage"]:
        response = browser.get(url)
        parsed = parse(response.content)
        for attrs in parsed.scripts:
            assert attrs.get("src") or attrs.get("type") == "application/json", (url, attrs)
        assert parsed.styled == [], url
        content = response.content.decode()
        assert not re.search(r"\son[a-z]+=", content), url  # no inline event handlers
        assert not re.search(r'(src|href)="(https?:)?//', content), url
    assert not parse(Client().get("/login/").content).styled


def test_static_scripts_are_served_from_this_server(world: Any, pages: list[str]) -> None:
    overview = client_for(world.admin).get("/").content.decode()

    assert "/static/vendor/htmx.min.js" in overview
    assert "/static/dashboard/base.js" in overview
    assert '"includeIndicatorStyles": false' in overview  # htmx would inject a <style>


def test_session_and_csrf_cookies_are_http_only_and_same_site(world: Any) -> None:
    from tests.dashboard.seed import PASSWORD

    browser = Client()
    page = browser.get("/login/")
    csrf = page.cookies["csrftoken"]
    response = browser.post("/login/", {"username": "wang", "password": PASSWORD})
    session = response.cookies["sessionid"]

    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    assert session["httponly"] and session["samesite"] == "Lax"


def test_sign_in_and_the_language_switch_refuse_posts_without_a_csrf_token(world: Any) -> None:
    from tests.dashboard.seed import PASSWORD

    browser = Client(enforce_csrf_checks=True)

    assert browser.post("/login/", {"username": "wang", "password": PASSWORD}).status_code == 403
    assert browser.post("/i18n/setlang/", {"language": "en"}).status_code == 403


def test_dashboard_pages_take_no_post(world: Any, pages: list[str]) -> None:
    browser = client_for(world.admin)

    for url in pages:
        assert browser.post(url).status_code == 405, url

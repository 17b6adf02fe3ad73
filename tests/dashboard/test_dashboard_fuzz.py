"""No form or query parameter of the dashboard reaches a 500, for any persona.

Every URL of the dashboard apps (enumerated from the resolver, as the permission matrix does),
plus sign-in, sign-out and the language switch, gets requests whose path ids, query
parameters and form fields hypothesis makes up: text of every kind, digits that are not ASCII
("²", "٣"), numbers past any column's range, NUL characters (which PostgreSQL refuses in
text), lists where one value is expected, and the scene's real ids so that the deeper code
paths run too. Each request goes through Django's test client as one of the personas, which
re-raises any exception a view lets out; the answer must be below 500.

The API has its own fuzzing (tests/server/test_server_fuzz.py, from its OpenAPI document).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.lib.ids import MAX_ID, parse_id
from tests.dashboard import test_permission_matrix as matrix
from tests.dashboard.test_permission_matrix import PERSONAS, Scene, app_urls, browser

# The permission matrix's scene (a county's host, notice, token, policy and spot check, and a
# host of the county next door) and its quick password hashing, shared as fixtures.
scene = matrix.scene
quick_passwords = matrix.quick_passwords

pytestmark = pytest.mark.server

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

# Values people do not type but requests can carry.
_ODD = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "²",
        "٣",
        "１",
        " 7 ",
        "1_000",
        "1.5",
        "1e400",
        "9" * 30,
        "9" * 5000,
        "\x00",
        "a\x00b",
        "\u202e",
        "\ufeff1",
        "<script>",
        "../..",
        "%",
        "null",
        "true",
        "on",
        "2026-02-30",
        "a" * 600,
    ]
)
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_NUMBER = st.integers(min_value=-(2**70), max_value=2**70).map(str)


@dataclass(frozen=True)
class Route:
    """A URL (path ids made from the scene) and the parameters its views read."""

    path: Callable[[Scene, Any], str]  # (scene, a drawn path value or None) -> path
    query: tuple[str, ...] = ()
    form: tuple[str, ...] = ()  # for a POST
    path_values: str = ""  # "int" or "text": the path has a value to fuzz


def _unit_path(scene: Scene, value: Any) -> str:
    return f"/units/{value if value is not None else scene.world.county.pk}/"


ROUTES: dict[str, Route] = {
    "dashboard:overview /": Route(lambda s, v: "/", ("days",)),
    "dashboard:overview /units/<int:unit_id>/": Route(_unit_path, ("days",), (), "int"),
    "dashboard:hosts /hosts/": Route(
        lambda s, v: "/hosts/",
        (
            "q",
            "unit",
            "status",
            "compliance",
            "category",
            "policy",
            "rule",
            "finding",
            "installed",
            "running",
            "missing",
            "sort",
            "page",
        ),
    ),
    "dashboard:host /hosts/<str:host_id>/": Route(
        lambda s, v: f"/hosts/{v if v is not None else s.host.host_id}/", (), (), "text"
    ),
    "dashboard:violations /violations/": Route(
        lambda s, v: "/violations/", ("unit", "category", "severity", "rule", "page")
    ),
    "dashboard:assets /assets/": Route(lambda s, v: "/assets/", ("unit",)),
    "rectification:list /rectifications/": Route(
        lambda s, v: "/rectifications/", ("status", "overdue", "unit", "host", "page")
    ),
    "rectification:issue /rectifications/new/": Route(
        lambda s, v: "/rectifications/new/",
        ("host", "rule"),
        ("host", "rule", "responsible_person", "deadline", "remark"),
    ),
    "rectification:detail /rectifications/<int:pk>/": Route(
        lambda s, v: f"/rectifications/{v if v is not None else s.notice.pk}/", (), (), "int"
    ),
    "rectification:close /rectifications/<int:pk>/close/": Route(
        lambda s, v: f"/rectifications/{v if v is not None else s.notice.pk}/close/",
        (),
        ("override_reason",),
        "int",
    ),
    "rectification:print /rectifications/<int:pk>/print/": Route(
        lambda s, v: f"/rectifications/{v if v is not None else s.notice.pk}/print/",
        (),
        (),
        "int",
    ),
    "rectification:spot_checks /spot-checks/": Route(
        lambda s, v: "/spot-checks/", ("page",), ("host_id", "unit", "hours")
    ),
    "rectification:spot_check /spot-checks/<int:pk>/": Route(
        lambda s, v: f"/spot-checks/{v if v is not None else s.spot_pk}/",
        ("show", "page"),
        (),
        "int",
    ),
    "administration:policies /policies/": Route(lambda s, v: "/policies/", (), ("text", "unit")),
    "administration:policy /policies/<int:pk>/": Route(
        lambda s, v: f"/policies/{v if v is not None else s.policy_pk}/", ("against",), (), "int"
    ),
    "administration:policy_assign /policies/<int:pk>/assign/": Route(
        lambda s, v: f"/policies/{v if v is not None else s.policy_pk}/assign/",
        (),
        ("unit",),
        "int",
    ),
    "administration:tokens /tokens/": Route(
        lambda s, v: "/tokens/", ("page",), ("unit", "uses", "expires_days", "note")
    ),
    "administration:token_revoke /tokens/<int:pk>/revoke/": Route(
        lambda s, v: f"/tokens/{v if v is not None else s.token_pk}/revoke/", (), (), "int"
    ),
    "administration:audit /audit/": Route(lambda s, v: "/audit/", ("action", "actor", "q", "page")),
    "administration:snapshots /snapshots/": Route(lambda s, v: "/snapshots/", (), ("unit",)),
    "administration:alerts /alerts/": Route(
        lambda s, v: "/alerts/",
        ("unit",),
        ("unit", "email_enabled", "webhook_url", "mode", "digest_hour"),
    ),
    "alerts:language /alerts/language/": Route(
        lambda s, v: "/alerts/language/", (), ("language", "unit")
    ),
    "sightings:devices /network-devices/": Route(
        lambda s, v: "/network-devices/", ("unit", "show", "sort", "q", "page")
    ),
    "sightings:known /network-devices/<int:pk>/known/": Route(
        lambda s, v: f"/network-devices/{v if v is not None else s.device_pk}/known/",
        (),
        ("kind", "note", "next"),
        "int",
    ),
    "sightings:unknown /network-devices/<int:pk>/unknown/": Route(
        lambda s, v: f"/network-devices/{v if v is not None else s.device_pk}/unknown/",
        (),
        ("next",),
        "int",
    ),
    "sightings:import /network-devices/import/": Route(
        lambda s, v: "/network-devices/import/", (), ("unit", "import_format", "source", "file")
    ),
}
# Outside the four apps, but pages of the dashboard all the same.
OTHER_ROUTES: dict[str, Route] = {
    "accounts:login /login/": Route(lambda s, v: "/login/", ("next",), ("username", "password")),
    "accounts:logout /logout/": Route(lambda s, v: "/logout/", (), ("next",)),
    "set_language /i18n/setlang/": Route(lambda s, v: "/i18n/setlang/", (), ("language", "next")),
}


def _real_values(scene: Scene) -> list[str]:
    """Ids and words the views know, so that fuzzed requests also reach past the lookups."""
    world = scene.world
    return [
        str(world.county.pk),
        str(world.office.pk),
        str(world.other_county.pk),
        str(scene.notice.pk),
        str(scene.policy_pk),
        scene.host.host_id,
        scene.own_host.host_id,
        "no-remote-control",
        "no-unregistered-storage",
        "en",
        "zh-hans",
        "immediate",
        "digest",
        "all",
        "open",
        "answered",
        "-hostname",
        "last_seen",
        "2030-01-01",
        "unregistered",
        "printer",
        "dnsmasq",
        "/network-devices/",
    ]


def _values(scene: Scene) -> st.SearchStrategy[Any]:
    one = st.one_of(_ODD, _ODD, _TEXT, _NUMBER, st.sampled_from(_real_values(scene)))
    return st.one_of(one, one, one, st.lists(one, min_size=2, max_size=3))


def _path_values(kind: str) -> st.SearchStrategy[Any]:
    if kind == "int":
        return st.one_of(st.none(), st.integers(min_value=0, max_value=10**30))
    if kind == "text":
        texts = st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="/?#"),
            min_size=1,
            max_size=40,
        )
        return st.one_of(st.none(), texts, _ODD.filter(lambda text: text and "/" not in text))
    return st.none()


def _no_server_error(client: Client, method: str, path: str, data: dict[str, Any]) -> None:
    # The test client re-raises what a view lets out, so an exception fails here too.
    response = getattr(client, method)(path, data)
    assert response.status_code < 500, (method, path, data)


@given(st.one_of(_ODD, _TEXT, _NUMBER, st.integers(), st.none(), st.booleans()))
@settings(max_examples=300, deadline=None)
def test_an_id_is_read_only_from_the_digits_the_server_writes(text: object) -> None:
    number = parse_id(text)
    if number is not None:
        assert 1 <= number <= MAX_ID
        assert str(number) == str(text)


def test_the_alert_language_form_takes_a_superscript_two_for_no_unit(scene: Scene) -> None:
    """Was a 500: "²".isdigit() is true, int("²") raises."""
    for persona in PERSONAS:
        answer = browser(scene, persona).post("/alerts/language/", {"language": "en", "unit": "²"})
        assert answer.status_code == 302, persona
        assert "?unit=" not in answer["Location"]


def test_unit_ids_in_other_digits_name_no_unit(scene: Scene) -> None:
    admin = browser(scene, "admin")
    county = scene.world.county.pk
    assert admin.get(f"/hosts/?unit={county}").status_code == 200
    for written in ("²", "٣", f" {county}", f"{county}_", f"0{county}", "\uff11"):
        assert admin.get("/hosts/", {"unit": written}).status_code == 404, written


def test_a_nul_character_in_a_parameter_is_refused_with_a_400(scene: Scene) -> None:
    """Was a 500 on PostgreSQL, which refuses NUL in text."""
    admin = browser(scene, "admin")
    assert admin.get("/hosts/", {"q": "pc\x00"}).status_code == 400
    assert admin.get("/audit/", {"actor": "\x00"}).status_code == 400
    assert admin.post("/spot-checks/", {"host_id": "h_\x00"}).status_code == 400
    assert admin.get("/hosts/%00/").status_code == 400


def test_every_url_of_the_dashboard_apps_is_fuzzed() -> None:
    assert set(app_urls()) == set(ROUTES)


@pytest.mark.parametrize("url", sorted({**ROUTES, **OTHER_ROUTES}))
def test_no_parameter_of_a_dashboard_url_gets_a_server_error(scene: Scene, url: str) -> None:
    route = {**ROUTES, **OTHER_ROUTES}[url]
    values = _values(scene)

    @FUZZ
    @given(
        persona=st.sampled_from(PERSONAS),
        path_value=_path_values(route.path_values),
        query=st.dictionaries(st.sampled_from(route.query or ("unused",)), values, max_size=4),
        form=st.dictionaries(st.sampled_from(route.form or ("unused",)), values, max_size=5),
        hx=st.booleans(),
    )
    def fuzz(persona: str, path_value: Any, query: dict, form: dict, hx: bool) -> None:
        client = browser(scene, persona)
        if hx:
            client.defaults["HTTP_HX_REQUEST"] = "true"
        path = route.path(scene, path_value)
        _no_server_error(client, "get", path, query)
        if route.form:
            _no_server_error(client, "post", path, form)

    fuzz()

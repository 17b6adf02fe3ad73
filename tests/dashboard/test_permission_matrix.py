"""Who gets what: every URL of the dashboard, rectification, administration and alerts apps ×
{superuser, admin in scope, admin out of scope, auditor in scope, anonymous} → the status
of a GET, and of a POST (the action, for URLs that act; 405 for pages that only show).

The URLs are enumerated from the resolver, so a URL added to one of these apps without a
line in EXPECTED fails `test_every_url_of_the_dashboard_apps_has_an_expectation`.

The rules (server.administration.access, server.dashboard.access): signing in first (302 to
the login page); then an object outside the user's subtree answers 404, as one that does not
exist; then acting needs the admin role on the object's unit (403 for an auditor, who may
read it). Last, "no object of another unit is reachable by id guessing": the admin of the
county next door tries every id around the first county's hosts, notices, tokens, policies
and spot checks, reading and acting, and gets 404 for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from server.administration.policy_store import assign_policy, store_policy
from server.fleet.models import Host
from server.fleet.tokens import create_token
from server.rectification import actions
from server.rectification.models import Rectification, SpotCheck
from server.rectification.spot_checks import request_spot_check
from server.sightings.models import Device, SightingImport
from tests.dashboard.actions_world import enroll, send, signed_in, usb_finding
from tests.dashboard.seed import POLICY_PATH
from tests.server.agents import SimulatedAgent, finding

pytestmark = pytest.mark.server

APPS = ("dashboard", "rectification", "administration", "alerts", "sightings")
PERSONAS = ("superuser", "admin", "other_admin", "auditor", "anonymous")
LOGIN = "login"  # 302 to the sign-in page
MOVED = "moved"  # 302 anywhere else: the action was done and its result is shown
Expectation = dict[str, int | str]

ISSUE_RULE = "no-remote-control"
NOTICE_RULE = "no-unregistered-storage"


# --- the URLs the apps have ------------------------------------------------------------------


def app_urls() -> list[str]:
    """ "<namespace>:<name> <route>" of every URL pattern of APPS, from the resolver."""
    found: list[str] = []

    def walk(patterns: list[Any], namespace: str | None, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = entry.namespace or namespace
                walk(entry.url_patterns, inner, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and namespace in APPS:
                found.append(f"{namespace}:{entry.name} /{prefix}{entry.pattern}")

    walk(get_resolver().url_patterns, None, "")
    return found


# --- the objects in the first county, and who asks ---------------------------------------------


@dataclass
class Scene:
    world: Any
    agent: SimulatedAgent  # a PC of 北京市/海淀区/网信办, failing two rules
    host: Host
    notice: Rectification  # open, for NOTICE_RULE
    token_pk: int
    policy_pk: int  # assigned to 海淀区 only
    spot_pk: int
    own_host: Host  # a PC of the out-of-scope admin's own county
    device_pk: int  # a MAC seen in 北京市/海淀区/网信办


def _failing(agent: SimulatedAgent) -> None:
    remote = finding(ISSUE_RULE, "fail")
    remote["title"] = {"zh": "未安装远程控制软件", "en": "No remote-control software"}
    send(agent, [usb_finding("fail"), remote, finding("vrv-installed")])


@pytest.fixture(autouse=True)
def quick_passwords(settings: Any) -> None:
    """The personas' passwords hashed quickly: they sign in through force_login anyway."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scene(world: Any) -> Scene:
    agent = enroll(world.office, "hd-pc-01")
    _failing(agent)
    host = Host.objects.get(host_id=agent.host_id)
    now = timezone.now()
    notice = actions.issue(
        host,
        NOTICE_RULE,
        "张三",
        timezone.localdate() + dt.timedelta(days=7),
        "",
        world.admin,
        "user:wang",
        now,
    )
    token, _clear = create_token(world.office, uses=3, expires_days=7, actor="cli:test")
    policy, _new = store_policy(POLICY_PATH.read_bytes(), "intranet-office.yaml", world.admin, "t")
    assign_policy(policy, world.county, world.admin, "user:wang")
    spot = request_spot_check(
        world.office, host, Host.objects.filter(pk=host.pk), 4, world.admin, "user:wang", now
    )
    own = enroll(world.other_office, "cy-pc-01")
    send(own, [finding("vrv-installed")])
    device = Device.objects.create(
        unit=world.office, mac="00:1b:a9:44:55:66", first_seen=now, last_seen=now
    )
    return Scene(
        world,
        agent,
        host,
        notice,
        token.pk,
        policy.pk,
        spot.pk,
        Host.objects.get(host_id=own.host_id),
        device.pk,
    )


def browser(scene: Scene, persona: str) -> Client:
    return signed_in(None if persona == "anonymous" else getattr(scene.world, persona))


# --- what each URL answers -------------------------------------------------------------------


def answers(
    superuser: int | str,
    admin: int | str,
    other_admin: int | str,
    auditor: int | str,
    anonymous: int | str = LOGIN,
) -> Expectation:
    return {
        "superuser": superuser,
        "admin": admin,
        "other_admin": other_admin,
        "auditor": auditor,
        "anonymous": anonymous,
    }


READ_LIST = answers(200, 200, 200, 200)  # everyone signed in; the list is scoped
READ_OBJECT = answers(200, 200, 404, 200)  # the object is in the first county
ONLY_SHOWS = answers(405, 405, 405, 405)  # POST to a page that only shows
ACT = answers(MOVED, MOVED, 404, 403)  # act on the first county's object


def _valid_policy(scene: Scene) -> dict[str, str]:
    text = POLICY_PATH.read_text(encoding="utf-8").replace(
        'version: "2026.11"', 'version: "2026.12"'
    )
    assert text != POLICY_PATH.read_text(encoding="utf-8"), "the policy's version line moved"
    return {"text": text, "unit": str(scene.world.county.pk)}


@dataclass(frozen=True)
class Case:
    path: Callable[[Scene], str]
    get: Expectation
    post: Expectation
    data: Callable[[Scene], dict[str, str]] = lambda scene: {}


EXPECTED: dict[str, Case] = {
    "dashboard:overview /": Case(lambda s: "/", READ_LIST, ONLY_SHOWS),
    "dashboard:overview /units/<int:unit_id>/": Case(
        lambda s: f"/units/{s.world.county.pk}/", READ_OBJECT, ONLY_SHOWS
    ),
    "dashboard:hosts /hosts/": Case(lambda s: "/hosts/", READ_LIST, ONLY_SHOWS),
    "dashboard:host /hosts/<str:host_id>/": Case(
        lambda s: f"/hosts/{s.host.host_id}/", READ_OBJECT, ONLY_SHOWS
    ),
    "dashboard:violations /violations/": Case(lambda s: "/violations/", READ_LIST, ONLY_SHOWS),
    "dashboard:assets /assets/": Case(lambda s: "/assets/", READ_LIST, ONLY_SHOWS),
    "rectification:list /rectifications/": Case(
        lambda s: "/rectifications/", READ_LIST, ONLY_SHOWS
    ),
    "rectification:issue /rectifications/new/": Case(
        lambda s: f"/rectifications/new/?host={s.host.host_id}&rule={ISSUE_RULE}",
        answers(200, 200, 404, 403),
        ACT,
        lambda s: {
            "host": s.host.host_id,
            "rule": ISSUE_RULE,
            "responsible_person": "张三",
            "deadline": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
            "remark": "",
        },
    ),
    "rectification:detail /rectifications/<int:pk>/": Case(
        lambda s: f"/rectifications/{s.notice.pk}/", READ_OBJECT, ONLY_SHOWS
    ),
    "rectification:close /rectifications/<int:pk>/close/": Case(
        lambda s: f"/rectifications/{s.notice.pk}/close/",
        answers(405, 405, 405, 405),
        ACT,
        lambda s: {"override_reason": "设备已由保密办收回"},
    ),
    "rectification:print /rectifications/<int:pk>/print/": Case(
        lambda s: f"/rectifications/{s.notice.pk}/print/", READ_OBJECT, ONLY_SHOWS
    ),
    "rectification:spot_checks /spot-checks/": Case(
        lambda s: "/spot-checks/", READ_LIST, ACT, lambda s: {"host_id": s.host.host_id}
    ),
    "rectification:spot_check /spot-checks/<int:pk>/": Case(
        lambda s: f"/spot-checks/{s.spot_pk}/", READ_OBJECT, ONLY_SHOWS
    ),
    "administration:policies /policies/": Case(
        lambda s: "/policies/", READ_LIST, ACT, _valid_policy
    ),
    "administration:policy /policies/<int:pk>/": Case(
        lambda s: f"/policies/{s.policy_pk}/", READ_OBJECT, ONLY_SHOWS
    ),
    "administration:policy_assign /policies/<int:pk>/assign/": Case(
        lambda s: f"/policies/{s.policy_pk}/assign/",
        answers(405, 405, 405, 405),
        ACT,
        lambda s: {"unit": str(s.world.office.pk)},
    ),
    "administration:tokens /tokens/": Case(
        lambda s: "/tokens/",
        READ_LIST,
        answers(201, 201, 404, 403),  # the new token is on this very page, once
        lambda s: {"unit": str(s.world.office.pk), "uses": "2", "expires_days": "3"},
    ),
    "administration:token_revoke /tokens/<int:pk>/revoke/": Case(
        lambda s: f"/tokens/{s.token_pk}/revoke/", answers(405, 405, 405, 405), ACT
    ),
    "administration:audit /audit/": Case(lambda s: "/audit/", READ_LIST, ONLY_SHOWS),
    "administration:snapshots /snapshots/": Case(
        lambda s: "/snapshots/",
        READ_LIST,
        # A download, not a change: auditors pull snapshots too; out of scope is 404.
        answers(200, 200, 404, 200),
        lambda s: {"unit": str(s.world.county.pk)},
    ),
    "administration:alerts /alerts/": Case(
        lambda s: f"/alerts/?unit={s.world.county.pk}",
        READ_OBJECT,
        ACT,
        lambda s: {
            "unit": str(s.world.county.pk),
            "email_enabled": "on",
            "webhook_url": "",
            "mode": "immediate",
            "digest_hour": "8",
        },
    ),
    "sightings:devices /network-devices/": Case(
        lambda s: "/network-devices/", READ_LIST, ONLY_SHOWS
    ),
    "sightings:known /network-devices/<int:pk>/known/": Case(
        lambda s: f"/network-devices/{s.device_pk}/known/",
        answers(405, 405, 405, 405),
        ACT,
        lambda s: {"kind": "printer", "note": "二楼"},
    ),
    "sightings:unknown /network-devices/<int:pk>/unknown/": Case(
        lambda s: f"/network-devices/{s.device_pk}/unknown/", answers(405, 405, 405, 405), ACT
    ),
    "sightings:import /network-devices/import/": Case(
        lambda s: "/network-devices/import/",
        READ_LIST,
        answers(201, 201, 404, 403),  # the result is on this very page
        lambda s: {
            "unit": str(s.world.office.pk),
            "import_format": "switch",
            "source": "核心交换机",
            "file": SimpleUploadedFile("mac.csv", b"MAC,Port,VLAN\n0011.2233.4455,Gi1/0/5,10\n"),
        },
    ),
    "alerts:language /alerts/language/": Case(
        lambda s: "/alerts/language/",
        answers(405, 405, 405, 405),
        answers(MOVED, MOVED, MOVED, MOVED),  # one's own preference: no unit involved
        lambda s: {"language": "en"},
    ),
}


def outcome(response: Any) -> int | str:
    """The status, with a 302 told apart: to the sign-in page, or elsewhere."""
    if response.status_code == 302:
        return LOGIN if response["Location"].startswith(reverse("accounts:login")) else MOVED
    return int(response.status_code)


# --- the tests -------------------------------------------------------------------------------


def test_every_url_of_the_dashboard_apps_has_an_expectation() -> None:
    urls = set(app_urls())
    assert urls - set(EXPECTED) == set(), "URLs without an expectation in EXPECTED"
    assert set(EXPECTED) - urls == set(), "expectations for URLs that do not exist"


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_a_get_answers_each_persona_as_the_scope_and_role_rules_say(scene: Scene, url: str) -> None:
    case = EXPECTED[url]
    seen = {persona: outcome(browser(scene, persona).get(case.path(scene))) for persona in PERSONAS}
    assert seen == case.get


def acts(case: Case, persona: str) -> bool:
    return case.post[persona] in (MOVED, 201)


ACTING = [
    (url, persona)
    for url in sorted(EXPECTED)
    for persona in PERSONAS
    if acts(EXPECTED[url], persona)
]


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_a_post_is_refused_to_each_persona_the_rules_do_not_let_act(scene: Scene, url: str) -> None:
    """Refusals change nothing (see below), so the personas share one scene here."""
    case = EXPECTED[url]
    seen = {
        persona: outcome(browser(scene, persona).post(case.path(scene), case.data(scene)))
        for persona in PERSONAS
        if not acts(case, persona)
    }
    assert seen == {persona: case.post[persona] for persona in seen}


@pytest.mark.parametrize(("url", "persona"), ACTING)
def test_a_post_acts_for_each_persona_the_rules_let_act(
    scene: Scene, url: str, persona: str
) -> None:
    """One persona per test: an action changes what the next persona would find."""
    case = EXPECTED[url]
    answer = browser(scene, persona).post(case.path(scene), case.data(scene))
    assert outcome(answer) == case.post[persona], answer.content[:500]


def test_a_post_that_is_refused_changes_nothing(scene: Scene) -> None:
    """The refusals above are not after the fact: the notice is still open, the token still
    usable, no spot check or notice added, the policy assignment unchanged."""
    for persona in ("other_admin", "auditor", "anonymous"):
        for url in sorted(EXPECTED):
            case = EXPECTED[url]
            if case.post[persona] in (MOVED, 201) or "language" in url:
                continue
            browser(scene, persona).post(case.path(scene), case.data(scene))
    scene.notice.refresh_from_db()
    assert scene.notice.status == "open"
    assert Rectification.objects.count() == 1
    assert SpotCheck.objects.count() == 1
    from server.fleet.models import EnrollmentToken, PolicyAssignment

    token = EnrollmentToken.objects.get(pk=scene.token_pk)
    assert token.revoked_at is None
    assert EnrollmentToken.objects.count() == 1 + 2  # the scene's, and one per enroll()
    assignments = PolicyAssignment.objects.values_list("unit__path", "policy__version")
    assert sorted(assignments) == [("北京市/海淀区", "2026.11")]
    assert Device.objects.get(pk=scene.device_pk).known_by == ""
    assert not SightingImport.objects.exists() and Device.objects.count() == 1


# --- id guessing -----------------------------------------------------------------------------


def _ids_around(pks: list[int]) -> range:
    return range(1, max(pks) + 6)


def test_the_admin_of_another_county_reaches_no_object_of_the_first_by_guessing_ids(
    scene: Scene,
) -> None:
    more = [enroll(scene.world.school, f"hd-pc-{n:02d}") for n in range(2, 5)]
    for agent in more:
        _failing(agent)
        actions.issue(
            Host.objects.get(host_id=agent.host_id),
            NOTICE_RULE,
            "李四",
            timezone.localdate() + dt.timedelta(days=3),
            "",
            scene.world.admin,
            "user:wang",
            timezone.now(),
        )
        create_token(scene.world.school, uses=1, expires_days=1, actor="cli:test")
    own_unit_pks = {scene.world.other_county.pk, scene.world.other_office.pk}
    guesser = browser(scene, "other_admin")
    first_county = Host.objects.exclude(pk=scene.own_host.pk)

    for host in first_county:
        assert guesser.get(f"/hosts/{host.host_id}/").status_code == 404
        assert guesser.post("/spot-checks/", {"host_id": host.host_id}).status_code == 404
        issue = f"/rectifications/new/?host={host.host_id}&rule={NOTICE_RULE}"
        assert guesser.get(issue).status_code == 404
    assert guesser.get("/hosts/h_" + "0" * 32 + "/").status_code == 404

    from server.accounts.models import Unit
    from server.fleet.models import EnrollmentToken, Policy

    for pk in _ids_around(list(Unit.objects.values_list("pk", flat=True))):
        if pk in own_unit_pks:
            continue
        assert guesser.get(f"/units/{pk}/").status_code == 404, pk
        assert guesser.get(f"/alerts/?unit={pk}").status_code == 404, pk
        assert guesser.get(f"/rectifications/?unit={pk}").status_code == 404, pk
    for pk in _ids_around(list(Rectification.objects.values_list("pk", flat=True))):
        for path in (f"/rectifications/{pk}/", f"/rectifications/{pk}/print/"):
            assert guesser.get(path).status_code == 404, path
        assert (
            guesser.post(f"/rectifications/{pk}/close/", {"override_reason": "x"}).status_code
            == 404
        )
    for pk in _ids_around(list(EnrollmentToken.objects.values_list("pk", flat=True))):
        if EnrollmentToken.objects.filter(pk=pk, unit__pk__in=own_unit_pks).exists():
            continue
        assert guesser.post(f"/tokens/{pk}/revoke/").status_code == 404, pk
    for pk in _ids_around(list(Policy.objects.values_list("pk", flat=True))):
        assert guesser.get(f"/policies/{pk}/").status_code == 404, pk
        answer = guesser.post(f"/policies/{pk}/assign/", {"unit": scene.world.other_office.pk})
        assert answer.status_code == 404, pk
    for pk in _ids_around(list(SpotCheck.objects.values_list("pk", flat=True))):
        assert guesser.get(f"/spot-checks/{pk}/").status_code == 404, pk
    for pk in _ids_around([scene.device_pk]):
        for action in ("known", "unknown"):
            answer = guesser.post(f"/network-devices/{pk}/{action}/", {"kind": "other"})
            assert answer.status_code == 404, (pk, action)

    # What the lists show the guesser: its own county's host only, nothing of the first.
    assert "00:1b:a9:44:55:66" not in guesser.get("/network-devices/?show=all").content.decode()
    for path in ("/hosts/", "/violations/", "/assets/", "/rectifications/?status=all", "/tokens/"):
        page = guesser.get(path).content.decode()
        for host in first_county:
            assert host.host_id not in page and host.hostname not in page, path
    assert EnrollmentToken.objects.filter(revoked_at__isnull=False).count() == 0

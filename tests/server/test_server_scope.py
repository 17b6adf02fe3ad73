"""Who sees which units: personas over a small tree of two provinces.

北京市 ─ 海淀区 ─ 网信办        上海市 ─ 浦东新区
       └ 朝阳区
       └ 海淀                  (a sibling whose name is a prefix of 海淀区)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from server.accounts.models import Membership, Role, Unit
from server.accounts.scope import restrict, units_administered_by, units_visible_to
from server.accounts.units import add_unit_path, find_unit
from server.fleet.models import Host

pytestmark = pytest.mark.server


@pytest.fixture
def tree(db: None) -> None:
    for path in ("北京市/海淀区/网信办", "北京市/朝阳区", "北京市/海淀", "上海市/浦东新区"):
        add_unit_path(path, "cli:test")


def member(name: str, path: str, role: str) -> User:
    user = User.objects.create_user(username=name, password="x" * 12)
    Membership.objects.create(user=user, unit=find_unit(path), role=role)
    return user


def paths(units: Any) -> set[str]:
    return {unit.path for unit in units}


def test_a_superuser_sees_every_unit(tree: None) -> None:
    chief = User.objects.create_superuser(username="chief", email="", password="x" * 12)
    assert paths(units_visible_to(chief)) == set(Unit.objects.values_list("path", flat=True))


def test_a_district_admin_sees_their_subtree_only(tree: None) -> None:
    admin = member("haidian-admin", "北京市/海淀区", Role.ADMIN)
    assert paths(units_visible_to(admin)) == {"北京市/海淀区", "北京市/海淀区/网信办"}
    assert paths(units_administered_by(admin)) == paths(units_visible_to(admin))


def test_a_name_that_is_a_prefix_of_another_does_not_leak_its_sibling(tree: None) -> None:
    admin = member("short-name-admin", "北京市/海淀", Role.ADMIN)
    assert paths(units_visible_to(admin)) == {"北京市/海淀"}


def test_an_auditor_reads_the_subtree_but_administers_nothing(tree: None) -> None:
    auditor = member("city-auditor", "北京市", Role.AUDITOR)
    assert "北京市/海淀区/网信办" in paths(units_visible_to(auditor))
    assert not paths(units_visible_to(auditor)) & {"上海市", "上海市/浦东新区"}
    assert not units_administered_by(auditor).exists()


def test_an_outsider_sees_only_their_own_province(tree: None) -> None:
    outsider = member("shanghai-admin", "上海市", Role.ADMIN)
    assert paths(units_visible_to(outsider)) == {"上海市", "上海市/浦东新区"}


def test_roles_on_two_units_add_up(tree: None) -> None:
    user = member("two-hats", "北京市/朝阳区", Role.ADMIN)
    Membership.objects.create(user=user, unit=find_unit("上海市/浦东新区"), role=Role.AUDITOR)
    assert paths(units_visible_to(user)) == {"北京市/朝阳区", "上海市/浦东新区"}
    assert paths(units_administered_by(user)) == {"北京市/朝阳区"}


def test_anonymous_and_inactive_users_see_nothing(tree: None) -> None:
    inactive = member("left-the-office", "北京市", Role.ADMIN)
    inactive.is_active = False
    inactive.save()
    assert not units_visible_to(AnonymousUser()).exists()
    assert not units_visible_to(inactive).exists()


def test_restrict_narrows_any_query_by_its_unit_field(tree: None) -> None:
    for number, path in enumerate(("北京市/海淀区/网信办", "北京市/朝阳区", "上海市/浦东新区")):
        Host.objects.create(
            host_id=f"h_{number:032x}",
            unit=find_unit(path),
            public_key=b"\x00" * 32,
            first_seen="2026-11-27T08:00:00Z",
            hostname=path,
        )
    admin = member("haidian-admin", "北京市/海淀区", Role.ADMIN)

    visible = restrict(Host.objects.all(), admin, "unit")
    assert list(visible.values_list("hostname", flat=True)) == ["北京市/海淀区/网信办"]
    memberships = restrict(Membership.objects.all(), admin, "unit")
    assert [m.user.username for m in memberships] == ["haidian-admin"]

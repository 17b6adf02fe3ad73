"""Policies from the dashboard: upload or edit, validated by the agent's loader with every
problem shown at its line; versions with diffs; assignment to a unit subtree, which agents
learn from the answer to their next report."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from server.accounts.models import AuditEntry, Membership, Role
from server.fleet.models import Host, Policy, PolicyAssignment
from tests.dashboard.actions_world import enroll, send, signed_in
from tests.server.agents import finding

pytestmark = pytest.mark.server

OFFICE_POLICY = Path(__file__).resolve().parents[2] / "policies" / "intranet-office.yaml"


def office_text() -> str:
    return OFFICE_POLICY.read_text(encoding="utf-8")


def upload(world: Any, text: str, unit: int | None = None, name: str = "office.yaml") -> Any:
    data: dict[str, Any] = {
        "file": SimpleUploadedFile(name, text.encode("utf-8"), "application/yaml")
    }
    if unit is not None:
        data["unit"] = str(unit)
    return signed_in(world.admin).post("/policies/", data)


def test_an_uploaded_policy_is_stored_assigned_and_handed_to_agents_with_their_next_report(
    world: Any,
) -> None:
    agent = enroll(world.office)

    response = upload(world, office_text(), unit=world.county.pk)

    policy = Policy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/policies/{policy.pk}/"
    assert (policy.policy_id, policy.version, policy.uploaded_by) == (
        "intranet-office",
        "2026.11",
        world.admin,
    )
    assert policy.yaml_text == office_text()
    assignment = PolicyAssignment.objects.get()
    assert (assignment.unit, assignment.assigned_by) == (world.county, world.admin)
    actions = list(AuditEntry.objects.filter(actor="user:wang").values_list("action", "target"))
    assert actions == [
        ("policy.add", "intranet-office 2026.11"),
        ("policy.assign", "北京市/海淀区"),
    ]
    answer = send(agent, [finding("vrv")])
    assert answer["policy"] == {
        "id": "intranet-office",
        "version": "2026.11",
        "sha256": policy.sha256,
    }
    # The schedule of the new policy is what the silent-host sweep now expects.
    assert Host.objects.get(host_id=agent.host_id).report_interval_seconds == 3600


def test_every_problem_is_shown_at_its_line_and_nothing_is_stored(world: Any) -> None:
    broken = office_text().replace("    severity: critical\n", "    severity: urgent\n", 1)
    broken = broken.replace("        - name: 北信源|VRV\n", "        - name: '[北信源'\n", 1)
    bad_lines = [
        n
        for n, line in enumerate(broken.splitlines(), 1)
        if "urgent" in line or "'[北信源'" in line
    ]

    response = upload(world, broken)

    assert response.status_code == 400
    page = response.content.decode()
    for number in bad_lines:
        row = page.split(f'<tr id="L{number}"', 1)[1].split("</tr>", 1)[0]
        assert 'class="ad-bad"' in row
        assert "ad-problem" in row
    urgent_row = page.split(f'<tr id="L{bad_lines[0]}"', 1)[1].split("</tr>", 1)[0]
    assert "&#x27;urgent&#x27; is not one of" in urgent_row
    assert "invalid regular expression" in page
    clean_row = page.split('<tr id="L1"', 1)[1].split("</tr>", 1)[0]
    assert "ad-bad" not in clean_row
    assert not Policy.objects.exists()


@pytest.mark.parametrize(
    ("language", "explained"),
    [
        ("zh-CN,zh;q=0.9", "这一行的缩进与上面的行不一致：请把“title”与第"),
        ("en", "this line is indented differently from the lines above it: line up"),
    ],
    ids=["zh", "en"],
)
def test_a_yaml_slip_is_explained_at_its_line_in_the_pages_language(
    world: Any, language: str, explained: str
) -> None:
    slipped = office_text().replace(
        "    title:\n      zh: 终端注册", "   title:\n      zh: 终端注册", 1
    )
    line = next(n for n, text in enumerate(slipped.splitlines(), 1) if text == "   title:")
    data = {"file": SimpleUploadedFile("office.yaml", slipped.encode(), "application/yaml")}

    response = signed_in(world.admin).post("/policies/", data, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 400
    row = response.content.decode().split(f'<tr id="L{line}"', 1)[1].split("</tr>", 1)[0]
    assert "ad-problem" in row and explained in html.unescape(row)
    assert not Policy.objects.exists()


def test_the_textarea_works_like_a_file_and_its_text_is_escaped(world: Any) -> None:
    text = "# <script>alert(1)</script>\nid: x\nversion: '1'\n"

    response = signed_in(world.admin).post("/policies/", {"text": text})

    assert response.status_code == 400
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "title" in page  # the loader's complaint about the missing title


def test_an_edited_version_gets_a_history_and_a_diff_against_the_previous_one(
    world: Any,
) -> None:
    upload(world, office_text())
    edited = office_text().replace('version: "2026.11"', 'version: "2026.12"', 1)
    edited = edited.replace("interval: 1h", "interval: 30m", 1)

    response = signed_in(world.admin).post("/policies/", {"text": edited})

    newer = Policy.objects.get(version="2026.12")
    assert response.status_code == 302
    page = signed_in(world.admin).get(f"/policies/{newer.pk}/").content.decode()
    assert '<span class="ad-diff-del">-  interval: 1h' in page
    assert '<span class="ad-diff-add">+  interval: 30m' in page
    assert "2026.11" in page and "2026.12" in page


def test_the_same_version_with_other_content_is_refused_at_the_version_line(
    world: Any,
) -> None:
    upload(world, office_text())
    changed = office_text().replace("interval: 1h", "interval: 2h", 1)

    response = upload(world, changed)

    assert response.status_code == 400
    line = next(n for n, text in enumerate(changed.splitlines(), 1) if text.startswith("version:"))
    page = response.content.decode()
    row = page.split(f'<tr id="L{line}"', 1)[1].split("</tr>", 1)[0]
    assert "ad-bad" in row
    assert Policy.objects.count() == 1


def test_a_stored_version_is_assigned_from_its_page_and_audited(world: Any) -> None:
    upload(world, office_text())
    policy = Policy.objects.get()

    response = signed_in(world.admin).post(
        f"/policies/{policy.pk}/assign/", {"unit": world.office.pk}
    )

    assert response.status_code == 302
    assert PolicyAssignment.objects.get().unit == world.office
    entry = AuditEntry.objects.get(action="policy.assign")
    assert entry.details["unit"] == "北京市/海淀区/网信办"


def test_policies_of_other_counties_are_out_of_sight_and_out_of_reach(world: Any) -> None:
    upload(world, office_text(), unit=world.county.pk)
    policy = Policy.objects.get()
    outsider = signed_in(world.other_admin)

    assert outsider.get(f"/policies/{policy.pk}/").status_code == 404
    assert (
        outsider.post(f"/policies/{policy.pk}/assign/", {"unit": world.other_county.pk}).status_code
        == 404
    )
    assert "intranet-office" not in outsider.get("/policies/").content.decode()
    mine = signed_in(world.admin)
    assert (
        mine.post(f"/policies/{policy.pk}/assign/", {"unit": world.other_county.pk}).status_code
        == 404
    )
    assert PolicyAssignment.objects.get().unit == world.county


def _upload_as(user: User, text: str, unit: int) -> Any:
    return signed_in(user).post("/policies/", {"text": text, "unit": str(unit)})


def test_another_countys_policy_id_and_version_are_its_own_and_never_named(world: Any) -> None:
    """Was: the county next door, uploading its own "intranet-office 2026.11", was told that
    this version is stored with other content, and uploading the same text took it to the
    first county's policy page with its uploader's name."""
    upload(world, office_text(), unit=world.county.pk)
    theirs = office_text().replace("interval: 1h", "interval: 2h", 1)
    assert theirs != office_text()

    answer = _upload_as(world.other_admin, theirs, world.other_county.pk)

    assert answer.status_code == 302
    stored = Policy.objects.get(owner=world.other_county)
    assert (stored.policy_id, stored.version, stored.yaml_text) == (
        "intranet-office",
        "2026.11",
        theirs,
    )
    page = signed_in(world.other_admin).get(answer["Location"]).content.decode()
    assert "wang" not in page

    same = _upload_as(world.other_admin, office_text(), world.other_office.pk)

    assert same.status_code == 400  # their own 2026.11 has other content: in their scope
    assert "wang" not in same.content.decode() and "北京市/海淀区" not in same.content.decode()
    assert Policy.objects.count() == 2


def test_the_same_text_uploaded_in_another_county_is_a_copy_of_its_own(world: Any) -> None:
    upload(world, office_text(), unit=world.county.pk)
    first = Policy.objects.get()

    answer = _upload_as(world.other_admin, office_text(), world.other_county.pk)

    copy = Policy.objects.exclude(pk=first.pk).get()
    assert answer["Location"] == f"/policies/{copy.pk}/"
    assert (copy.owner, copy.uploaded_by, copy.sha256) == (
        world.other_county,
        world.other_admin,
        first.sha256,
    )
    page = signed_in(world.other_admin).get(answer["Location"]).content.decode()
    assert "wang" not in page and "北京市/海淀区" not in page
    assert signed_in(world.other_admin).get(f"/policies/{first.pk}/").status_code == 404


def test_a_policy_id_stays_unique_in_what_one_admin_sees(world: Any) -> None:
    """The same county's two admins share one id space, whether or not it is assigned."""
    sun = User.objects.create_user("sun", "", "a long enough test password 42")
    Membership.objects.create(user=sun, unit=world.county, role=Role.ADMIN)
    signed_in(world.admin).post("/policies/", {"text": office_text()})  # not assigned

    refused = _upload_as(
        sun, office_text().replace("interval: 1h", "interval: 2h"), world.office.pk
    )

    assert refused.status_code == 400
    assert Policy.objects.count() == 1
    assert Policy.objects.get().owner == world.county


def test_an_auditor_reads_policies_but_cannot_upload_or_assign(world: Any) -> None:
    upload(world, office_text(), unit=world.county.pk)
    policy = Policy.objects.get()
    auditor = signed_in(world.auditor)

    assert auditor.get(f"/policies/{policy.pk}/").status_code == 200
    assert auditor.get("/policies/").status_code == 200
    refused = auditor.post("/policies/", {"text": office_text().replace("2026.11", "2027.01")})
    assert refused.status_code == 403
    assert (
        auditor.post(f"/policies/{policy.pk}/assign/", {"unit": world.office.pk}).status_code == 403
    )
    assert Policy.objects.count() == 1
    assert PolicyAssignment.objects.get().unit == world.county


def test_a_unit_below_sees_the_baseline_assigned_above_it(world: Any) -> None:
    upload(world, office_text(), unit=world.county.pk)
    policy = Policy.objects.get()
    office_admin = User.objects.create_user("zhou", "", "a long enough test password 42")
    Membership.objects.create(user=office_admin, unit=world.office, role=Role.ADMIN)

    assert signed_in(office_admin).get(f"/policies/{policy.pk}/").status_code == 200


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    response = signed_in(None).post("/policies/", {"text": office_text()})

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Policy.objects.exists()

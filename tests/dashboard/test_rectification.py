"""Rectification notices (整改): issued from a violation, re-checked by the agent's next
report, closed (销号) by an admin; overdue notices; scope and roles; the printable notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from server.accounts.models import AuditEntry
from server.fleet.models import Host
from server.rectification.models import EventKind, Rectification, Status
from tests.dashboard.actions_world import (
    enroll,
    send,
    signed_in,
    usb_finding,
)
from tests.server.agents import SimulatedAgent

pytestmark = pytest.mark.server

RULE = "no-unregistered-storage"


@pytest.fixture
def failing_pc(world: Any) -> SimulatedAgent:
    agent = enroll(world.office)
    send(agent, [usb_finding("fail")])
    return agent


def issue(world: Any, agent: SimulatedAgent, days: int = 10) -> Rectification:
    deadline = timezone.localdate() + dt.timedelta(days=days)
    response = signed_in(world.admin).post(
        "/rectifications/new/",
        {
            "host": agent.host_id,
            "rule": RULE,
            "responsible_person": "张三",
            "deadline": deadline.isoformat(),
            "remark": "三日内交信息中心登记",
        },
    )
    assert response.status_code == 302, response.content
    return Rectification.objects.get(host__host_id=agent.host_id, rule=RULE, status="open")


def test_the_issue_form_is_prefilled_from_the_failing_finding_and_the_host(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    response = signed_in(world.admin).get(
        "/rectifications/new/", {"host": failing_pc.host_id, "rule": RULE}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "未使用未登记的U盘" in page
    assert 'value="张三"' in page  # the person responsible from the agent's asset fields
    assert 'name="deadline"' in page and 'type="date"' in page


def test_issue_recheck_by_the_next_passing_report_and_close_is_the_whole_cycle(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    assert (notice.title_zh, notice.severity, notice.category) == (
        "未使用未登记的U盘",
        "high",
        "media",
    )
    assert notice.evidence["devices"][0]["serial"] == "4C53<b>"
    assert notice.issued_by == world.admin

    send(failing_pc, [usb_finding("pass")])

    notice.refresh_from_db()
    assert notice.status == Status.RECHECKED
    assert notice.rechecked_report is not None and notice.rechecked_report.seq == 2
    assert notice.rechecked_at is not None

    response = signed_in(world.admin).post(f"/rectifications/{notice.pk}/close/")

    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == Status.CLOSED
    assert notice.closed_by == world.admin
    kinds = list(notice.events.values_list("kind", flat=True))
    assert kinds == [EventKind.ISSUED, EventKind.RECHECKED, EventKind.CLOSED]
    actions = list(
        AuditEntry.objects.filter(target=f"rectification:{notice.pk}").values_list(
            "actor", "action"
        )
    )
    assert actions == [
        ("user:wang", "rectification.issue"),
        (f"host:{failing_pc.host_id}", "rectification.recheck"),
        ("user:wang", "rectification.close"),
    ]


def test_a_report_that_still_fails_leaves_the_notice_open(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)

    send(failing_pc, [usb_finding("fail")])

    notice.refresh_from_db()
    assert notice.status == Status.OPEN


def test_failing_again_after_the_recheck_reopens_the_notice(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    send(failing_pc, [usb_finding("pass")])

    send(failing_pc, [usb_finding("fail")])

    notice.refresh_from_db()
    assert notice.status == Status.OPEN
    assert list(notice.events.values_list("kind", flat=True))[-1] == EventKind.FAILED_AGAIN


def test_an_open_notice_is_closed_only_with_a_reason_which_is_audited(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    admin = signed_in(world.admin)

    refused = admin.post(f"/rectifications/{notice.pk}/close/", follow=True)

    notice.refresh_from_db()
    assert notice.status == Status.OPEN
    assert "give the reason" in refused.content.decode() or "说明理由" in refused.content.decode()

    admin.post(f"/rectifications/{notice.pk}/close/", {"override_reason": "主机已报废，硬盘已销毁"})

    notice.refresh_from_db()
    assert notice.status == Status.CLOSED
    assert notice.close_override_reason == "主机已报废，硬盘已销毁"
    entry = AuditEntry.objects.filter(action="rectification.close").get()
    assert entry.details["override_reason"] == "主机已报废，硬盘已销毁"
    assert notice.events.last().kind == EventKind.CLOSED_OVERRIDE  # type: ignore[union-attr]


def test_a_second_notice_for_a_problem_that_is_still_open_is_refused(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    first = issue(world, failing_pc)

    form = signed_in(world.admin).get(
        "/rectifications/new/", {"host": failing_pc.host_id, "rule": RULE}
    )
    again = signed_in(world.admin).post(
        "/rectifications/new/",
        {
            "host": failing_pc.host_id,
            "rule": RULE,
            "responsible_person": "李四",
            "deadline": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        },
    )

    assert f"/rectifications/{first.pk}/" in form.content.decode()
    assert again.status_code == 400
    assert Rectification.objects.count() == 1


def test_a_passing_rule_cannot_be_issued_and_a_past_deadline_is_refused(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    past = signed_in(world.admin).post(
        "/rectifications/new/",
        {
            "host": failing_pc.host_id,
            "rule": RULE,
            "responsible_person": "张三",
            "deadline": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        },
    )
    send(failing_pc, [usb_finding("pass")])
    passing = signed_in(world.admin).get(
        "/rectifications/new/", {"host": failing_pc.host_id, "rule": RULE}
    )

    assert past.status_code == 400
    assert 'name="responsible_person"' not in passing.content.decode()
    assert Rectification.objects.count() == 0


def test_overdue_notices_stand_out_in_the_list_and_can_be_filtered(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    late = issue(world, failing_pc)
    Rectification.objects.filter(pk=late.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=1)
    )
    other = enroll(world.office, "pc-0418")
    send(other, [usb_finding("fail")])
    on_time = issue(world, other)
    admin = signed_in(world.admin)

    everything = admin.get("/rectifications/").content.decode()
    overdue = admin.get("/rectifications/", {"overdue": "1"}).content.decode()

    assert "rx-row-overdue" in everything
    assert f"/rectifications/{late.pk}/" in overdue
    assert f"/rectifications/{on_time.pk}/" not in overdue
    assert "rx-overdue" in admin.get(f"/rectifications/{late.pk}/").content.decode()


def test_the_list_filters_by_status_and_by_unit_subtree(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    admin = signed_in(world.admin)

    closed = admin.get("/rectifications/", {"status": "closed"}).content.decode()
    opened = admin.get("/rectifications/", {"status": "open", "unit": world.county.pk})
    elsewhere = signed_in(world.superuser).get("/rectifications/", {"unit": world.other_county.pk})

    assert f"/rectifications/{notice.pk}/" not in closed
    assert f"/rectifications/{notice.pk}/" in opened.content.decode()
    assert f"/rectifications/{notice.pk}/" not in elsewhere.content.decode()
    assert admin.get("/rectifications/", {"unit": world.other_county.pk}).status_code == 404


def test_notices_outside_the_users_subtree_answer_404(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    outsider = signed_in(world.other_admin)

    assert outsider.get(f"/rectifications/{notice.pk}/").status_code == 404
    assert outsider.get(f"/rectifications/{notice.pk}/print/").status_code == 404
    assert outsider.post(f"/rectifications/{notice.pk}/close/").status_code == 404
    assert (
        outsider.get("/rectifications/new/", {"host": failing_pc.host_id, "rule": RULE}).status_code
        == 404
    )
    assert f"/rectifications/{notice.pk}/" not in outsider.get("/rectifications/").content.decode()


def test_an_auditor_reads_notices_but_cannot_issue_or_close_them(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    auditor = signed_in(world.auditor)

    assert auditor.get("/rectifications/").status_code == 200
    assert auditor.get(f"/rectifications/{notice.pk}/").status_code == 200
    assert auditor.get(f"/rectifications/{notice.pk}/print/").status_code == 200
    assert (
        auditor.get("/rectifications/new/", {"host": failing_pc.host_id, "rule": RULE}).status_code
        == 403
    )
    refused = auditor.post(f"/rectifications/{notice.pk}/close/", {"override_reason": "x"})
    assert refused.status_code == 403
    assert (
        f"/rectifications/{notice.pk}/close/"
        not in auditor.get(f"/rectifications/{notice.pk}/").content.decode()
    )
    notice.refresh_from_db()
    assert notice.status == Status.OPEN


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any, failing_pc: SimulatedAgent) -> None:
    notice = issue(world, failing_pc)
    anonymous = signed_in(None)

    for url in ("/rectifications/", f"/rectifications/{notice.pk}/", "/rectifications/new/"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    assert anonymous.post(f"/rectifications/{notice.pk}/close/").status_code == 302
    notice.refresh_from_db()
    assert notice.status == Status.OPEN


def test_the_printable_notice_carries_the_sheet_and_the_signature_lines(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)

    page = signed_in(world.auditor).get(f"/rectifications/{notice.pk}/print/").content.decode()

    assert "rectification/print.css" in page
    for text in (
        "北京市/海淀区/网信办",
        "BJ-2026-0417",
        "张三",
        "三日内交信息中心登记",
        "签字",
        "日期",
    ):
        assert text in page
    assert notice.deadline.isoformat() in page


def test_strings_from_agents_are_escaped_on_every_notice_page(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    Host.objects.filter(host_id=failing_pc.host_id).update(hostname="<script>alert(1)</script>")
    notice = issue(world, failing_pc)
    admin = signed_in(world.admin)

    for url in (
        "/rectifications/",
        f"/rectifications/{notice.pk}/",
        f"/rectifications/{notice.pk}/print/",
    ):
        page = admin.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "<SanDisk>" not in page and "4C53<b>" not in page
    detail = admin.get(f"/rectifications/{notice.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "4C53&lt;b&gt;" in detail


def test_the_finding_is_shown_in_the_language_of_the_page(
    world: Any, failing_pc: SimulatedAgent
) -> None:
    notice = issue(world, failing_pc)
    admin = signed_in(world.admin)

    chinese = admin.get(f"/rectifications/{notice.pk}/").content.decode()
    english = admin.get(f"/rectifications/{notice.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "未使用未登记的U盘" in chinese and "整改" in chinese
    assert "No unregistered USB storage" in english and "Rectification" in english

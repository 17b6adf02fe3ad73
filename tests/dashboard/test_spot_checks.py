"""Spot checks (抽查): an admin asks a host or a unit subtree to check again now; the page
shows which hosts answered (through their next report) and which did not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from agent.protocol.documents import verified_commands
from server.accounts.models import AuditEntry
from server.fleet.models import Command, Host, HostStatus
from server.rectification.models import SpotCheck
from server.rectification.spot_checks import with_progress
from tests.dashboard.actions_world import enroll, send, signed_in
from tests.server.agents import finding

pytestmark = pytest.mark.server


def test_a_host_asked_to_recheck_gets_the_command_and_its_next_report_answers_it(
    world: Any,
) -> None:
    agent = enroll(world.office)
    send(agent, [finding("vrv")])

    response = signed_in(world.admin).post(
        "/spot-checks/", {"host_id": agent.host_id, "hours": "4"}
    )

    assert response.status_code == 302
    spot = SpotCheck.objects.get()
    assert response["Location"] == f"/spot-checks/{spot.pk}/"
    command = Command.objects.get()
    assert (command.host.host_id, command.kind, command.created_by) == (
        agent.host_id,
        "recheck",
        world.admin,
    )
    assert command.expires_at - command.created_at == dt.timedelta(hours=4)
    entry = AuditEntry.objects.get(action="spotcheck.request")
    assert (entry.actor, entry.target, entry.details["hosts"]) == ("user:wang", agent.host_id, 1)

    # The agent learns of the command from the signed answer to its report, and answers it.
    answer = send(agent, [finding("vrv")])
    commands = verified_commands(
        answer["commands"], agent.server_key, agent.host_id, timezone.now()
    )
    assert [c.id for c in commands] == [str(command.pk)]
    send(agent, [finding("vrv")], answered=[str(command.pk)])

    command.refresh_from_db()
    assert command.answered_at is not None
    page = signed_in(world.auditor).get(f"/spot-checks/{spot.pk}/", {"show": "answered"})
    assert agent.hostname in page.content.decode()


def test_a_unit_request_asks_every_host_of_its_subtree_and_lists_who_has_not_answered(
    world: Any,
) -> None:
    answering = enroll(world.office, "pc-answers")
    silent = enroll(world.office, "pc-never-answers")
    revoked = enroll(world.office, "pc-revoked")
    Host.objects.filter(host_id=revoked.host_id).update(status=HostStatus.REVOKED)
    elsewhere = enroll(world.other_office, "pc-other-county")

    signed_in(world.admin).post("/spot-checks/", {"unit": world.county.pk})

    asked = set(Command.objects.values_list("host__host_id", flat=True))
    assert asked == {answering.host_id, silent.host_id}
    assert elsewhere.host_id not in asked
    command = Command.objects.get(host__host_id=answering.host_id)
    send(answering, [finding("vrv")], answered=[str(command.pk)])
    spot = SpotCheck.objects.get()
    auditor = signed_in(world.auditor)

    listing = auditor.get("/spot-checks/").content.decode()
    waiting = auditor.get(f"/spot-checks/{spot.pk}/", {"show": "waiting"}).content.decode()

    assert f"/spot-checks/{spot.pk}/" in listing
    assert "pc-never-answers" in waiting and "pc-answers<" not in waiting
    annotated = SpotCheck.objects.filter(pk=spot.pk)
    progress = with_progress(annotated, timezone.now()).get()
    assert (progress.total, progress.answered, progress.waiting, progress.expired) == (2, 1, 1, 0)
    later = with_progress(annotated, timezone.now() + dt.timedelta(days=2)).get()
    assert (later.waiting, later.expired) == (0, 1)


def test_hosts_and_units_outside_the_admins_subtree_answer_404(world: Any) -> None:
    agent = enroll(world.office)
    outsider = signed_in(world.other_admin)

    by_host = outsider.post("/spot-checks/", {"host_id": agent.host_id})
    by_unit = outsider.post("/spot-checks/", {"unit": world.county.pk})

    assert (by_host.status_code, by_unit.status_code) == (404, 404)
    assert not Command.objects.exists()
    signed_in(world.admin).post("/spot-checks/", {"host_id": agent.host_id})
    spot = SpotCheck.objects.get()
    assert outsider.get(f"/spot-checks/{spot.pk}/").status_code == 404
    assert f"/spot-checks/{spot.pk}/" not in outsider.get("/spot-checks/").content.decode()


def test_an_auditor_may_not_request_a_spot_check(world: Any) -> None:
    agent = enroll(world.office)
    auditor = signed_in(world.auditor)

    assert auditor.post("/spot-checks/", {"host_id": agent.host_id}).status_code == 403
    assert auditor.post("/spot-checks/", {"unit": world.office.pk}).status_code == 403
    assert 'name="unit"' not in auditor.get("/spot-checks/").content.decode()
    assert not Command.objects.exists()


def test_an_anonymous_visitor_cannot_request_or_list_spot_checks(world: Any) -> None:
    agent = enroll(world.office)
    anonymous = signed_in(None)

    assert anonymous.post("/spot-checks/", {"host_id": agent.host_id}).status_code == 302
    assert "/login/" in anonymous.get("/spot-checks/")["Location"]
    assert not Command.objects.exists()


def test_a_request_without_a_target_or_with_a_bad_lifetime_is_refused(world: Any) -> None:
    agent = enroll(world.office)
    admin = signed_in(world.admin)

    assert admin.post("/spot-checks/", {}).status_code == 400
    assert admin.post("/spot-checks/", {"host_id": agent.host_id, "hours": "0"}).status_code == 400
    assert not Command.objects.exists()

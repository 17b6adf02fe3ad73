"""What full reports and heartbeats leave behind: latest findings and their history,
heartbeat thinning, need_full, and commands answered by reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agent.protocol.documents import verified_commands
from server.fleet.commands import create_rechecks
from server.fleet.models import FindingChange, Host, LatestFinding, Report
from tests.server.agents import SimulatedAgent, finding, utc_now

pytestmark = pytest.mark.server


def post(client: Client, body: bytes) -> Any:
    response = client.post("/api/v1/reports", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def latest(agent: SimulatedAgent) -> dict[str, str]:
    rows = LatestFinding.objects.filter(host__host_id=agent.host_id)
    return {row.rule: row.status for row in rows}


def history(agent: SimulatedAgent) -> list[tuple[str, str, str]]:
    rows = FindingChange.objects.filter(host__host_id=agent.host_id).order_by("id")
    return [(row.rule, row.old_status, row.new_status) for row in rows]


def test_findings_are_upserted_with_a_history_of_status_changes(
    client: Client, agent: SimulatedAgent
) -> None:
    day = utc_now() - dt.timedelta(days=3)
    first = [finding("vrv", "pass"), finding("usb", "fail", device="0781:5567")]
    post(client, agent.envelope(agent.full_payload(first), sent_at=day))
    second = [finding("vrv", "pass"), finding("usb", "pass"), finding("wifi", "fail")]
    post(client, agent.envelope(agent.full_payload(second), sent_at=day + dt.timedelta(days=1)))
    third = [finding("usb", "pass"), finding("wifi", "fail")]
    post(client, agent.envelope(agent.full_payload(third), sent_at=day + dt.timedelta(days=2)))

    assert latest(agent) == {"usb": "pass", "wifi": "fail"}
    assert history(agent) == [
        ("vrv", "", "pass"),
        ("usb", "", "fail"),
        ("usb", "fail", "pass"),
        ("wifi", "", "fail"),
        ("vrv", "pass", ""),
    ]
    usb = LatestFinding.objects.get(rule="usb")
    assert usb.first_seen.date() == day.date()
    assert usb.since.date() == (day + dt.timedelta(days=1)).date()
    assert usb.last_seen.date() == (day + dt.timedelta(days=2)).date()
    assert usb.evidence == {}
    assert usb.report.seq == 3
    wifi = LatestFinding.objects.get(rule="wifi")
    assert (wifi.title_zh, wifi.message_en, wifi.remedy_en) == (
        "规则 wifi",
        "checked",
        "install the client",
    )


def test_a_heartbeat_leaves_the_findings_alone(client: Client, agent: SimulatedAgent) -> None:
    full = agent.full_payload([finding("usb", "fail")])
    post(client, agent.envelope(full))

    post(client, agent.envelope(agent.heartbeat_payload(full["state_hash"])))

    assert latest(agent) == {"usb": "fail"}
    assert len(history(agent)) == 1


def test_heartbeats_are_thinned_to_the_first_of_each_day_and_the_newest(
    client: Client, agent: SimulatedAgent
) -> None:
    start = (utc_now() - dt.timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    full = agent.full_payload()
    post(client, agent.envelope(full, sent_at=start + dt.timedelta(hours=7)))
    times = [
        start + dt.timedelta(days=1, hours=8),
        start + dt.timedelta(days=1, hours=12),
        start + dt.timedelta(days=1, hours=18),
        start + dt.timedelta(days=2, hours=8),
        start + dt.timedelta(days=2, hours=9),
        start + dt.timedelta(days=2, hours=10),
    ]
    for moment in times:
        post(client, agent.envelope(agent.heartbeat_payload(full["state_hash"]), sent_at=moment))
    post(client, agent.envelope(full, sent_at=start + dt.timedelta(days=2, hours=11)))

    kept = Report.objects.filter(host__host_id=agent.host_id).order_by("seq")
    assert [(r.kind, r.sent_at) for r in kept] == [
        ("full", start + dt.timedelta(hours=7)),
        ("heartbeat", times[0]),
        ("heartbeat", times[3]),
        ("heartbeat", times[5]),
        ("full", start + dt.timedelta(days=2, hours=11)),
    ]


def test_a_heartbeat_arriving_late_does_not_displace_the_newest(
    client: Client, agent: SimulatedAgent
) -> None:
    noon = (utc_now() - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    state = agent.full_payload()["state_hash"]
    post(client, agent.envelope(agent.heartbeat_payload(state), seq=1, sent_at=noon))
    post(
        client,
        agent.envelope(agent.heartbeat_payload(state), seq=3, sent_at=noon + dt.timedelta(hours=2)),
    )
    post(
        client,
        agent.envelope(agent.heartbeat_payload(state), seq=2, sent_at=noon + dt.timedelta(hours=1)),
    )

    assert sorted(Report.objects.values_list("seq", flat=True)) == [1, 3]


def test_need_full_asks_for_a_full_report_when_the_server_lacks_that_state(
    client: Client, agent: SimulatedAgent
) -> None:
    full = agent.full_payload()
    first = post(client, agent.envelope(agent.heartbeat_payload(full["state_hash"])))
    post(client, agent.envelope(full))
    same = post(client, agent.envelope(agent.heartbeat_payload(full["state_hash"])))
    changed = post(client, agent.envelope(agent.heartbeat_payload("e" * 64)))

    assert first["need_full"] is True  # the server has no full report yet
    assert same["need_full"] is False
    assert changed["need_full"] is True
    assert (first["stored"], same["stored"]) == ("heartbeat", "heartbeat")


def test_a_recheck_is_handed_out_signed_and_answered_by_a_report(
    client: Client, agent: SimulatedAgent
) -> None:
    host = Host.objects.get(host_id=agent.host_id)
    (command,) = create_rechecks(Host.objects.filter(pk=host.pk), "cli:test", timezone.now())

    ack = post(client, agent.envelope(agent.full_payload()))
    handed = verified_commands(ack["commands"], agent.server_key, agent.host_id, utc_now())
    assert [(c.id, c.kind) for c in handed] == [(str(command.pk), "recheck")]

    answer = post(
        client, agent.envelope(agent.full_payload(answered=[str(command.pk)], trigger="command"))
    )

    command.refresh_from_db()
    assert command.answered_at is not None
    assert command.answered_report == Report.objects.get(seq=2)
    assert verified_commands(answer["commands"], agent.server_key, agent.host_id, utc_now()) == []


def test_a_host_cannot_answer_another_hosts_command(
    client: Client, agent: SimulatedAgent, enrollment_token: str
) -> None:
    other = SimulatedAgent()
    response = client.post(
        "/api/v1/enroll",
        data=other.enrollment_body(enrollment_token),
        content_type="application/json",
    )
    other.enrolled(response.json())
    (command,) = create_rechecks(
        Host.objects.filter(host_id=other.host_id), "cli:test", timezone.now()
    )

    post(client, agent.envelope(agent.full_payload(answered=[str(command.pk), "x", "٣"])))

    command.refresh_from_db()
    assert command.answered_at is None


def test_an_answer_survives_the_thinning_of_the_heartbeat_that_carried_it(
    client: Client, agent: SimulatedAgent
) -> None:
    host = Host.objects.get(host_id=agent.host_id)
    (command,) = create_rechecks(Host.objects.filter(pk=host.pk), "cli:test", timezone.now())
    state = agent.full_payload()["state_hash"]
    noon = (utc_now() - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    beats = [
        agent.heartbeat_payload(state),
        agent.heartbeat_payload(state, answered=[str(command.pk)]),
        agent.heartbeat_payload(state),
    ]
    for minute, beat in enumerate(beats):
        post(client, agent.envelope(beat, sent_at=noon + dt.timedelta(minutes=minute)))

    command.refresh_from_db()
    assert Report.objects.count() == 2  # the middle heartbeat was thinned out
    assert command.answered_report is None
    assert command.answered_at is not None

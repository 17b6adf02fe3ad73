"""GET /api/v1/policy and /api/v1/commands: signed requests in, server-signed documents out."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agent.protocol.documents import verified_commands, verified_policy
from agent.protocol.errors import REASONS, ProtocolError
from server.accounts.units import add_unit_path
from server.api.reasons import ENDPOINT_REASONS
from server.fleet.commands import create_rechecks
from server.fleet.models import Host, HostStatus
from server.fleet.policies import add_policy
from tests.server.agents import SimulatedAgent, utc_now
from tests.server.conftest import POLICIES

pytestmark = pytest.mark.server

POLICY_PATH = "/api/v1/policy"
COMMANDS_PATH = "/api/v1/commands"


def get(client: Client, path: str, authorization: str | None, **headers: str) -> Any:
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    extra.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    return client.get(path, **extra)  # type: ignore[arg-type]


def assert_refused(response: Any, endpoint: str, reason: str) -> None:
    assert response.status_code == REASONS[reason], response.content
    assert response.json()["error"] == reason
    assert reason in ENDPOINT_REASONS[endpoint]


def test_a_host_without_a_policy_gets_no_content(client: Client, agent: SimulatedAgent) -> None:
    response = get(client, POLICY_PATH, agent.authorization(POLICY_PATH))
    assert response.status_code == 204
    assert response.content == b""


def test_the_policy_is_signed_by_the_key_the_agent_pinned(
    client: Client, agent: SimulatedAgent, office_policy: Any
) -> None:
    response = get(client, POLICY_PATH, agent.authorization(POLICY_PATH))

    assert response.status_code == 200
    answer = response.json()
    assert (answer["id"], answer["version"]) == ("intranet-office", "2026.11")
    assert response["ETag"] == f'"{office_policy.sha256}"'
    signed = verified_policy(answer, agent.server_key, agent.host_id, utc_now(), None)
    assert signed.yaml == (POLICIES / "intranet-office.yaml").read_bytes()
    assert abs(signed.issued_at - utc_now()) < dt.timedelta(minutes=1)


def test_the_policy_is_signed_for_the_asking_host_only(
    client: Client, agent: SimulatedAgent, office_policy: Any, enrollment_token: str
) -> None:
    other = SimulatedAgent(hostname="pc-0418")
    enrolled = client.post(
        "/api/v1/enroll",
        data=other.enrollment_body(enrollment_token),
        content_type="application/json",
    )
    other.enrolled(enrolled.json())
    answer = get(client, POLICY_PATH, agent.authorization(POLICY_PATH)).json()

    with pytest.raises(ProtocolError, match="another host"):
        verified_policy(answer, other.server_key, other.host_id, utc_now(), None)


def test_a_policy_the_agent_already_has_is_not_sent_again(
    client: Client, agent: SimulatedAgent, office_policy: Any
) -> None:
    etag = f'"{office_policy.sha256}"'

    same = get(client, POLICY_PATH, agent.authorization(POLICY_PATH), if_none_match=etag)
    other = get(client, POLICY_PATH, agent.authorization(POLICY_PATH), if_none_match='"abc"')

    assert same.status_code == 304 and same.content == b""
    assert same["ETag"] == etag
    assert other.status_code == 200


def test_the_nearest_assignment_above_the_host_wins(
    client: Client, agent: SimulatedAgent, county: Any, office_policy: Any
) -> None:
    province, _ = add_unit_path("北京市", "cli:test")
    cafe = POLICIES / "internet-cafe.yaml"
    add_policy(cafe.read_bytes(), str(cafe), province, "cli:test")

    assigned = get(client, POLICY_PATH, agent.authorization(POLICY_PATH)).json()
    assert assigned["id"] == "intranet-office"  # the county's own assignment

    county.policy_assignment.delete()
    inherited = get(client, POLICY_PATH, agent.authorization(POLICY_PATH)).json()
    assert inherited["id"] != "intranet-office"


def test_the_report_answer_names_the_effective_policy(
    client: Client, agent: SimulatedAgent, office_policy: Any
) -> None:
    body = agent.envelope(agent.full_payload())
    ack = client.post("/api/v1/reports", data=body, content_type="application/json").json()
    assert ack["policy"] == {
        "id": "intranet-office",
        "version": "2026.11",
        "sha256": office_policy.sha256,
    }


def test_the_signature_covers_the_query_string(client: Client, agent: SimulatedAgent) -> None:
    signed = get(client, POLICY_PATH + "?have=1", agent.authorization(POLICY_PATH + "?have=1"))
    unsigned_query = get(client, POLICY_PATH + "?have=1", agent.authorization(POLICY_PATH))

    assert signed.status_code == 204
    assert_refused(unsigned_query, "policy", "unauthorized")


@pytest.mark.parametrize("path", [POLICY_PATH, COMMANDS_PATH])
@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (lambda agent, path: None, "unauthorized"),
        (lambda agent, path: "Bearer abc", "unauthorized"),
        (lambda agent, path: agent.authorization("/api/v1/other"), "unauthorized"),
        (lambda agent, path: agent.authorization(path, method="POST"), "unauthorized"),
        (
            lambda agent, path: SimulatedAgent(host_id=agent.host_id).authorization(path),
            "unauthorized",
        ),
        (
            lambda agent, path: agent.authorization(path, now=utc_now() - dt.timedelta(minutes=6)),
            "clock_skew",
        ),
        (
            lambda agent, path: SimulatedAgent(host_id="h_" + "1" * 32).authorization(path),
            "unknown_host",
        ),
    ],
    ids=[
        "missing",
        "other scheme",
        "other path",
        "other method",
        "other key",
        "stale",
        "unknown host",
    ],
)
def test_a_request_not_signed_by_the_host_is_refused(
    client: Client, agent: SimulatedAgent, path: str, make_header: Any, reason: str
) -> None:
    endpoint = path.rsplit("/", 1)[1]
    assert_refused(get(client, path, make_header(agent, path)), endpoint, reason)


@pytest.mark.parametrize("path", [POLICY_PATH, COMMANDS_PATH])
def test_a_revoked_host_gets_nothing(client: Client, agent: SimulatedAgent, path: str) -> None:
    Host.objects.filter(host_id=agent.host_id).update(status=HostStatus.REVOKED)
    assert_refused(
        get(client, path, agent.authorization(path)), path.rsplit("/", 1)[1], "host_revoked"
    )


def test_pending_commands_are_signed_for_this_host_only(
    client: Client, agent: SimulatedAgent, enrollment_token: str
) -> None:
    other = SimulatedAgent()
    other.enrolled(
        client.post(
            "/api/v1/enroll",
            data=other.enrollment_body(enrollment_token),
            content_type="application/json",
        ).json()
    )
    now = timezone.now()
    mine = Host.objects.filter(host_id=agent.host_id)
    (pending,) = create_rechecks(mine, "cli:test", now)
    create_rechecks(mine, "cli:test", now - dt.timedelta(days=2))  # expired by now
    create_rechecks(Host.objects.filter(host_id=other.host_id), "cli:test", now)

    response = get(client, COMMANDS_PATH, agent.authorization(COMMANDS_PATH))

    assert response.status_code == 200
    commands = verified_commands(response.json(), agent.server_key, agent.host_id, utc_now())
    assert [c.id for c in commands] == [str(pending.pk)]
    listed = [c["id"] for c in json.loads(response.json()["document"])["commands"]]
    assert listed == [str(pending.pk)]  # neither the expired one nor the other host's


def test_a_revoked_host_is_given_no_new_commands(agent: SimulatedAgent) -> None:
    Host.objects.filter(host_id=agent.host_id).update(status=HostStatus.REVOKED)
    assert create_rechecks(Host.objects.all(), "cli:test", timezone.now()) == []

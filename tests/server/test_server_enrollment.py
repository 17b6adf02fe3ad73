"""POST /api/v1/enroll: tokens, proofs, and what an enrollment leaves behind."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agent.probes.keytext import decode_public_key
from agent.protocol.errors import REASONS
from server.accounts.models import AuditEntry
from server.api.reasons import ENDPOINT_REASONS
from server.fleet.models import EnrollmentToken, Host
from server.fleet.policies import add_policy
from server.fleet.tokens import create_token, revoke_token, token_digest
from server.lib.server_key import current_server_key, public_key_bytes
from tests.server.agents import SimulatedAgent
from tests.server.conftest import POLICIES

pytestmark = pytest.mark.server


def enroll(client: Client, body: bytes) -> Any:
    return client.post("/api/v1/enroll", data=body, content_type="application/json")


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == REASONS[reason], response.content
    assert response.json()["error"] == reason
    assert response.json()["detail"]
    assert reason in ENDPOINT_REASONS["enroll"]


def test_an_office_pc_enrolls_with_its_units_token(
    client: Client, county: Any, enrollment_token: str
) -> None:
    simulated = SimulatedAgent(hostname="hd-wxb-017")
    response = enroll(client, simulated.enrollment_body(enrollment_token))

    assert response.status_code == 201
    answer = response.json()
    assert set(answer) == {"host_id", "server_public_key", "unit", "report_interval_seconds"}
    assert answer["unit"] == "北京市/海淀区/网信办"
    assert answer["report_interval_seconds"] == 3600
    assert decode_public_key(answer["server_public_key"]) == public_key_bytes(current_server_key())
    host = Host.objects.get(host_id=answer["host_id"])
    assert host.unit == county
    assert bytes(host.public_key) == simulated.public_key
    assert (host.hostname, host.machine_id, host.platform) == (
        "hd-wxb-017",
        simulated.machine_id,
        "linux",
    )
    assert host.mac_addresses == ["52:54:00:12:34:56"]
    assert (host.machine_number, host.responsible_person) == ("BJ-2026-0417", "张三")
    assert host.status == "active" and host.last_seen is None


def test_an_enrollment_takes_one_use_of_the_token_and_is_audited(
    client: Client, enrollment_token: str
) -> None:
    token = EnrollmentToken.objects.get(token_sha256=token_digest(enrollment_token))
    response = enroll(client, SimulatedAgent().enrollment_body(enrollment_token))

    token.refresh_from_db()
    assert token.uses_left == 4
    entry = AuditEntry.objects.filter(action="host.enroll").get()
    assert entry.actor == f"token:{token.pk}"
    assert entry.target == response.json()["host_id"]
    assert entry.details["unit"] == "北京市/海淀区/网信办"


def test_the_interval_comes_from_the_policy_of_the_nearest_unit_above(
    client: Client, county: Any, enrollment_token: str
) -> None:
    text = (POLICIES / "intranet-office.yaml").read_text(encoding="utf-8")
    quick = text.replace("interval: 1h", "interval: 15m").replace('"2026.11"', '"2026.11-q"')
    assert quick != text
    add_policy(quick.encode(), "quick.yaml", county.parent, "cli:test")

    response = enroll(client, SimulatedAgent().enrollment_body(enrollment_token))

    assert response.json()["report_interval_seconds"] == 900


def test_the_last_use_of_a_token_goes_to_one_machine_only(client: Client, county: Any) -> None:
    _, token = create_token(county, uses=1, expires_days=1, actor="cli:test")

    first = enroll(client, SimulatedAgent().enrollment_body(token))
    second = enroll(client, SimulatedAgent().enrollment_body(token))

    assert first.status_code == 201
    assert_refused(second, "token_used_up")
    assert Host.objects.count() == 1


def test_a_token_is_stored_only_as_its_hash(county: Any) -> None:
    row, token = create_token(county, uses=1, expires_days=7, actor="cli:test")
    stored = json.dumps(list(EnrollmentToken.objects.values().filter(pk=row.pk)), default=str)
    assert token not in stored
    assert row.token_sha256 == token_digest(token)


def _expired(token: str) -> str:
    EnrollmentToken.objects.filter(token_sha256=token_digest(token)).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return token


def _used_up(token: str) -> str:
    EnrollmentToken.objects.filter(token_sha256=token_digest(token)).update(uses_left=0)
    return token


def _revoked(token: str) -> str:
    revoke_token(EnrollmentToken.objects.get(token_sha256=token_digest(token)).pk, "cli:test")
    return token


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda token: token + "x", "token_invalid"),
        (_expired, "token_expired"),
        (_used_up, "token_used_up"),
        (_revoked, "token_revoked"),
    ],
)
def test_a_token_that_cannot_enroll_is_refused_with_its_reason(
    client: Client, enrollment_token: str, spoil: Any, reason: str
) -> None:
    response = enroll(client, SimulatedAgent().enrollment_body(spoil(enrollment_token)))

    assert_refused(response, reason)
    assert not Host.objects.exists()
    assert not AuditEntry.objects.filter(action="host.enroll").exists()


def test_a_proof_by_another_key_is_refused(client: Client, enrollment_token: str) -> None:
    simulated, impostor = SimulatedAgent(), SimulatedAgent()
    request = simulated.enrollment_request(enrollment_token)
    request["proof"] = impostor.enrollment_request(enrollment_token)["proof"]

    response = enroll(client, json.dumps(request).encode())

    assert_refused(response, "bad_proof")
    assert not Host.objects.exists()
    token = EnrollmentToken.objects.get(token_sha256=token_digest(enrollment_token))
    assert token.uses_left == 5


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"token": ', "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b"[]", "schema_violation"),
        (b'{"token": "t", "token": "u"}', "schema_violation"),
    ],
)
def test_a_body_that_is_not_an_enrollment_request_is_refused(
    client: Client, county: Any, body: bytes, reason: str
) -> None:
    assert_refused(enroll(client, body), reason)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: r.pop("host"),
        lambda r: r.update(public_key="ed25519:AAAA"),
        lambda r: r.update(public_key="rsa:" + r["public_key"][8:]),
        lambda r: r["host"].update(hostname=17),
        lambda r: r.update(extra=True),
        lambda r: r.update(v=2),
    ],
    ids=["no host", "short key", "not ed25519", "hostname not text", "extra key", "version 2"],
)
def test_a_request_outside_the_schema_is_a_schema_violation(
    client: Client, enrollment_token: str, spoil: Any
) -> None:
    request = SimulatedAgent().enrollment_request(enrollment_token)
    spoil(request)

    assert_refused(enroll(client, json.dumps(request).encode()), "schema_violation")
    assert not Host.objects.exists()


def test_an_oversized_enrollment_is_refused_before_it_is_read(
    client: Client, enrollment_token: str
) -> None:
    request = SimulatedAgent().enrollment_request(enrollment_token)
    request["host"]["users"] = ["x" * 1000] * 100

    assert_refused(enroll(client, json.dumps(request).encode()), "too_large")
    assert not Host.objects.exists()


def test_unknown_host_fields_are_ignored_and_odd_values_cleaned(
    client: Client, enrollment_token: str
) -> None:
    simulated = SimulatedAgent()
    request = simulated.enrollment_request(enrollment_token)
    request["host"].update(
        hostname="pc\x00-1", kernel_modules=["x"], fqdn="f" * 1000, os_name="UOS\ud800"
    )

    response = enroll(client, json.dumps(request).encode())

    host = Host.objects.get(host_id=response.json()["host_id"])
    assert host.hostname == "pc-1"
    assert host.fqdn == "f" * 255
    assert host.os_name == "UOS?"

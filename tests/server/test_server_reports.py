"""POST /api/v1/reports: what is accepted and stored, and every refusal storing nothing."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client, RequestFactory

from agent.protocol.canonical import canonical_json
from agent.protocol.documents import verified_receipt
from agent.protocol.envelope import MAX_ENVELOPE_BYTES, decode_envelope, encode_envelope
from agent.protocol.errors import REASONS, ProtocolError
from server.accounts.models import AuditEntry
from server.api.reasons import ENDPOINT_REASONS
from server.api.reports import reports_view
from server.fleet.models import Host, HostStatus, Report
from tests.server.agents import SimulatedAgent, finding, utc_now

pytestmark = pytest.mark.server


def post(client: Client, body: bytes) -> Any:
    return client.post("/api/v1/reports", data=body, content_type="application/json")


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == REASONS[reason], response.content
    assert response.json()["error"] == reason, response.json()
    assert reason in ENDPOINT_REASONS["reports"]


def host_of(agent: SimulatedAgent) -> Host:
    return Host.objects.get(host_id=agent.host_id)


# --- accepted ------------------------------------------------------------------------------


def test_a_full_report_is_stored_byte_for_byte(client: Client, agent: SimulatedAgent) -> None:
    body = agent.envelope(agent.full_payload())

    response = post(client, body)

    assert response.status_code == 200
    ack = response.json()
    assert (ack["accepted"], ack["stored"], ack["need_full"], ack["policy"]) == (
        1,
        "full",
        False,
        None,
    )
    assert set(ack["commands"]) == {"document", "signature"}
    report = Report.objects.get()
    assert bytes(report.envelope) == body
    assert (report.seq, report.kind, report.trigger, report.compliant) == (
        1,
        "full",
        "schedule",
        True,
    )
    assert report.policy_id == "intranet-office"


def test_an_accepted_report_brings_the_host_up_to_date(
    client: Client, agent: SimulatedAgent
) -> None:
    Host.objects.filter(host_id=agent.host_id).update(
        status=HostStatus.SILENT, silent_since=utc_now()
    )
    payload = agent.full_payload(host=agent.host_facts(hostname="renamed-pc", os_version="23"))

    post(client, agent.envelope(payload))

    host = host_of(agent)
    assert host.status == "active" and host.silent_since is None
    assert host.last_seq == 1 and host.last_report == Report.objects.get()
    assert host.last_seen is not None
    assert (host.hostname, host.os_version) == ("renamed-pc", "23")
    assert host.last_full_state_hash == payload["state_hash"]


def test_a_report_without_compression_is_accepted(client: Client, agent: SimulatedAgent) -> None:
    response = post(client, agent.envelope(agent.full_payload(), compress=False))
    assert response.status_code == 200


def test_a_report_spooled_during_an_outage_is_accepted(
    client: Client, agent: SimulatedAgent
) -> None:
    sent = utc_now() - dt.timedelta(days=89)
    response = post(client, agent.envelope(agent.full_payload(), sent_at=sent))
    assert response.status_code == 200


def test_a_late_report_inside_the_window_is_accepted_without_rewinding_the_host(
    client: Client, agent: SimulatedAgent
) -> None:
    newer = agent.full_payload(host=agent.host_facts(hostname="newer"))
    older = agent.full_payload(host=agent.host_facts(hostname="older"))
    assert post(client, agent.envelope(newer, seq=5)).status_code == 200

    response = post(client, agent.envelope(older, seq=3))

    assert response.status_code == 200 and response.json()["accepted"] == 3
    host = host_of(agent)
    assert host.last_seq == 5 and host.hostname == "newer"
    assert host.last_report is not None and host.last_report.seq == 5
    assert post(client, agent.envelope(older, seq=4)).status_code == 200


def test_a_full_report_naming_another_machine_is_accepted_and_flagged(
    client: Client, agent: SimulatedAgent
) -> None:
    clone = agent.host_facts(machine_id="f" * 32)

    response = post(client, agent.envelope(agent.full_payload(host=clone)))

    assert response.status_code == 200
    host = host_of(agent)
    assert host.clone_suspected_at is not None
    assert "f" * 32 in host.clone_reason
    assert host.machine_id == agent.machine_id  # stays as enrolled
    assert (
        AuditEntry.objects.filter(action="host.clone_suspected", target=agent.host_id).count() == 1
    )
    post(client, agent.envelope(agent.full_payload(host=clone)))
    assert AuditEntry.objects.filter(action="host.clone_suspected").count() == 1  # once per reason


# --- sequence ------------------------------------------------------------------------------


def test_a_replayed_report_is_refused_as_replay(client: Client, agent: SimulatedAgent) -> None:
    body = agent.envelope(agent.full_payload())
    assert post(client, body).status_code == 200

    assert_refused(post(client, body), "replay")
    assert Report.objects.count() == 1


def test_a_reserialised_copy_of_an_accepted_report_is_a_replay_and_flags_nothing(
    client: Client, agent: SimulatedAgent
) -> None:
    body = agent.envelope(agent.full_payload())
    assert post(client, body).status_code == 200
    copy = json.dumps(json.loads(body), indent=1).encode()
    assert copy != body

    assert_refused(post(client, copy), "replay")

    assert host_of(agent).clone_suspected_at is None
    assert not AuditEntry.objects.filter(action="host.clone_suspected").exists()
    assert bytes(Report.objects.get().envelope) == body  # the stored evidence is untouched


def test_the_acknowledgement_carries_a_receipt_signed_for_exactly_that_report(
    client: Client, agent: SimulatedAgent
) -> None:
    body = agent.envelope(agent.full_payload())
    digest = decode_envelope(body).digest()

    answer = post(client, body).json()

    receipt = verified_receipt(answer, agent.server_key, agent.host_id, 1, digest)
    assert (receipt.outcome, receipt.need_full) == ("accepted", answer["need_full"])
    with pytest.raises(ProtocolError):
        verified_receipt(answer, agent.server_key, agent.host_id, 2, digest)


def test_a_replay_refusal_carries_a_receipt_for_the_copy_the_agent_holds(
    client: Client, agent: SimulatedAgent
) -> None:
    body = agent.envelope(agent.full_payload())
    post(client, body)
    copy = json.dumps(json.loads(body), indent=1).encode()

    answer = post(client, copy).json()

    assert answer["error"] == "replay"
    digest = decode_envelope(body).digest()
    receipt = verified_receipt(answer, agent.server_key, agent.host_id, 1, digest)
    assert receipt.outcome == "replay"


def test_another_report_under_an_accepted_seq_flags_the_host_as_cloned(
    client: Client, agent: SimulatedAgent
) -> None:
    assert post(client, agent.envelope(agent.full_payload(), seq=1)).status_code == 200
    twin = agent.full_payload(host=agent.host_facts(hostname="twin"))

    assert_refused(post(client, agent.envelope(twin, seq=1)), "seq_conflict")

    assert Report.objects.count() == 1
    host = host_of(agent)
    assert host.clone_suspected_at is not None and "seq 1" in host.clone_reason
    assert host.hostname == agent.hostname
    assert AuditEntry.objects.filter(action="host.clone_suspected").exists()


def test_a_seq_below_the_window_is_out_of_order_unless_its_report_is_stored(
    client: Client, agent: SimulatedAgent
) -> None:
    first = agent.envelope(agent.full_payload(), seq=1)
    post(client, first)
    post(client, agent.envelope(agent.full_payload(), seq=100))

    assert_refused(post(client, agent.envelope(agent.full_payload(), seq=30)), "seq_out_of_order")
    assert_refused(post(client, first), "replay")
    assert Report.objects.count() == 2


def test_a_forged_report_under_an_accepted_seq_is_a_bad_signature_not_a_conflict(
    client: Client, agent: SimulatedAgent
) -> None:
    post(client, agent.envelope(agent.full_payload(), seq=1))
    forged = encode_envelope(
        Ed25519PrivateKey.generate(), agent.host_id, 1, utc_now(), canonical_json({})
    )

    assert_refused(post(client, forged), "bad_signature")
    assert host_of(agent).clone_suspected_at is None


# --- refusals that store nothing -----------------------------------------------------------


def _forged(agent: SimulatedAgent) -> bytes:
    impostor = SimulatedAgent(key=Ed25519PrivateKey.generate(), host_id=agent.host_id)
    return impostor.envelope(agent.full_payload())


def _unknown_host(agent: SimulatedAgent) -> bytes:
    stranger = SimulatedAgent(host_id="h_" + "0" * 32)
    return stranger.envelope(stranger.full_payload())


def _revoked_host(agent: SimulatedAgent) -> bytes:
    Host.objects.filter(host_id=agent.host_id).update(status=HostStatus.REVOKED)
    return agent.envelope(agent.full_payload())


def _edited(agent: SimulatedAgent, **changes: Any) -> bytes:
    document = json.loads(agent.envelope(agent.full_payload()))
    document.update(changes)
    for key in [key for key, value in changes.items() if value is None]:
        del document[key]
    return canonical_json(document)


def _signed_payload(raw: bytes) -> Callable[[SimulatedAgent], bytes]:
    return lambda agent: agent.envelope(raw, compress=False)


def _signed_gzip(agent: SimulatedAgent) -> bytes:
    """The payload claims gzip but is not: the signature is fine, the payload is not."""
    body = json.loads(agent.envelope(b"not gzip at all", compress=False))
    body["payload_encoding"] = "gzip"
    sent = body["sent_at"]
    from agent.protocol.envelope import signing_input

    signature = agent.key.sign(
        signing_input(agent.host_id, body["seq"], sent, "gzip", b"not gzip at all")
    )
    body["signature"] = base64.b64encode(signature).decode()
    return canonical_json(body)


def _payload_violating_schema(agent: SimulatedAgent) -> bytes:
    payload = agent.full_payload()
    del payload["findings"]
    return agent.envelope(payload)


def _duplicate_rule(agent: SimulatedAgent) -> bytes:
    return agent.envelope(agent.full_payload(findings=[finding("a"), finding("a", "fail")]))


def _huge_count(agent: SimulatedAgent) -> bytes:
    payload = agent.full_payload()
    payload["summary"]["passed"] = 2**40
    return agent.envelope(payload)


def _non_finite_evidence(agent: SimulatedAgent) -> bytes:
    payload = agent.full_payload()
    text = json.dumps(payload).replace('"evidence": {}', '"evidence": {"ratio": NaN}')
    assert "NaN" in text
    return agent.envelope(text.encode())


REFUSALS: list[tuple[str, Callable[[SimulatedAgent], bytes]]] = [
    ("malformed_json", lambda agent: b'{"v": 1, "host_id": '),
    ("malformed_json", lambda agent: b"\x1f\x8b\x08\x00garbage"),
    ("schema_violation", lambda agent: b"[1, 2]"),
    ("schema_violation", lambda agent: _edited(agent, seq=None)),
    ("schema_violation", lambda agent: _edited(agent, seq=0)),
    ("schema_violation", lambda agent: _edited(agent, seq=True)),
    ("schema_violation", lambda agent: _edited(agent, extra="x")),
    ("schema_violation", lambda agent: _edited(agent, sent_at="yesterday")),
    ("schema_violation", lambda agent: _edited(agent, sent_at="2026-11-27T08:00:00")),
    ("schema_violation", lambda agent: _edited(agent, signature="AAAA")),
    ("schema_violation", lambda agent: _edited(agent, payload="%%%")),
    ("schema_violation", lambda agent: _edited(agent, payload_encoding="zstd")),
    ("unsupported_version", lambda agent: _edited(agent, v=2)),
    ("unknown_host", _unknown_host),
    ("host_revoked", _revoked_host),
    ("bad_signature", _forged),
    ("bad_signature", lambda agent: _edited(agent, seq=999)),
    (
        "clock_skew",
        lambda agent: agent.envelope(
            agent.full_payload(), sent_at=utc_now() + dt.timedelta(minutes=11)
        ),
    ),
    (
        "too_old",
        lambda agent: agent.envelope(
            agent.full_payload(), sent_at=utc_now() - dt.timedelta(days=91)
        ),
    ),
    ("bad_payload", _signed_payload(b"this is not JSON")),
    ("bad_payload", _signed_payload(b'{"v": 1}')),
    ("bad_payload", _signed_payload(b"[]")),
    ("bad_payload", _signed_gzip),
    ("bad_payload", _payload_violating_schema),
    ("bad_payload", _duplicate_rule),
    ("bad_payload", _huge_count),
    ("bad_payload", _non_finite_evidence),
]


@pytest.mark.parametrize(
    ("reason", "make_body"),
    REFUSALS,
    ids=[f"{i}-{reason}" for i, (reason, _) in enumerate(REFUSALS)],
)
def test_a_refused_report_stores_nothing(
    client: Client, agent: SimulatedAgent, reason: str, make_body: Callable[[SimulatedAgent], bytes]
) -> None:
    body = make_body(agent)

    assert_refused(post(client, body), reason)

    assert Report.objects.count() == 0
    host = host_of(agent)
    assert (host.last_seq, host.seq_window, host.last_seen) == (0, 0, None)
    assert host.clone_suspected_at is None


def test_a_payload_inflating_past_its_limit_is_refused(
    client: Client, agent: SimulatedAgent
) -> None:
    bomb = b'{"v": 1, "pad": "' + b" " * (9 * 1024 * 1024) + b'"}'

    response = post(client, agent.envelope(bomb))

    assert_refused(response, "payload_too_large")
    assert Report.objects.count() == 0


def test_an_oversized_body_is_refused(client: Client, agent: SimulatedAgent) -> None:
    payload = agent.full_payload(findings=[finding("big", blob="x" * (MAX_ENVELOPE_BYTES))])
    body = agent.envelope(payload, compress=False)
    assert len(body) > MAX_ENVELOPE_BYTES

    assert_refused(post(client, body), "too_large")
    assert Report.objects.count() == 0


class _Untouchable(io.RawIOBase):
    """A request body that fails the test if the server reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read")


def test_an_oversized_content_length_is_refused_before_the_body_is_read(db: None) -> None:
    request = RequestFactory().post("/api/v1/reports", data=b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = str(MAX_ENVELOPE_BYTES + 1)
    request.META["wsgi.input"] = _Untouchable()
    request._stream = _Untouchable()  # type: ignore[attr-defined]

    response = reports_view(request)

    assert response.status_code == 413
    assert json.loads(response.content)["error"] == "too_large"


def test_a_nul_character_in_a_finding_is_stored_without_it(
    client: Client, agent: SimulatedAgent
) -> None:
    payload = agent.full_payload(findings=[finding("nul", path="C:\\x\x00y")])

    assert post(client, agent.envelope(payload)).status_code == 200

    stored = host_of(agent).findings.get()
    assert stored.evidence == {"path": "C:\\xy"}


def test_a_lone_surrogate_in_a_finding_is_stored_replaced(
    client: Client, agent: SimulatedAgent
) -> None:
    broken = finding("surrogate", path="x\ud800y")
    broken["title"]["zh"] = "标题\udfff"
    raw = json.dumps(agent.full_payload(findings=[broken])).encode()  # "\ud800" escaped

    assert post(client, agent.envelope(raw)).status_code == 200

    stored = host_of(agent).findings.get()
    assert (stored.evidence, stored.title_zh) == ({"path": "x?y"}, "标题?")

"""The wire protocol: what a signature covers, and what every check refuses."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.protocol import auth, documents
from agent.protocol.canonical import canonical_json
from agent.protocol.envelope import decode_envelope, encode_envelope, verify_envelope
from agent.protocol.errors import REASONS, ProtocolError
from agent.protocol.payload import encode_payload, state_hash, validate_payload

HOST = "h_" + "ab" * 16
NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def heartbeat() -> dict:
    return {
        "v": 1,
        "kind": "heartbeat",
        "created_at": "2026-11-27T08:00:00Z",
        "trigger": "schedule",
        "state_hash": "0" * 64,
        "policy": {"id": "intranet-office", "version": "2026.11", "sha256": "1" * 64},
        "summary": {"compliant": True, "passed": 3, "failed": 0, "errors": 0, "not_applicable": 0},
        "answered_commands": [],
    }


def test_an_envelope_round_trips_and_verifies(key: Ed25519PrivateKey) -> None:
    body = encode_envelope(key, HOST, 7, NOW, encode_payload(heartbeat()))
    envelope = decode_envelope(body)
    verify_envelope(envelope, raw_public(key))
    assert envelope.seq == 7 and envelope.sent_at == "2026-11-27T08:00:00Z"
    assert json.loads(envelope.decoded_payload()) == heartbeat()


def test_the_same_report_encodes_to_the_same_bytes(key: Ed25519PrivateKey) -> None:
    payload = encode_payload(heartbeat())
    assert encode_envelope(key, HOST, 7, NOW, payload) == encode_envelope(
        key, HOST, 7, NOW, payload
    )


@pytest.mark.parametrize("field", ["host_id", "seq", "sent_at", "payload", "payload_encoding"])
def test_changing_any_signed_field_breaks_the_signature(key: Ed25519PrivateKey, field: str) -> None:
    body = json.loads(
        encode_envelope(key, HOST, 7, NOW, encode_payload(heartbeat()), compress=False)
    )
    body[field] = {
        "host_id": "h_" + "cd" * 16,
        "seq": 8,
        "sent_at": "2026-11-27T08:00:01Z",
        "payload": base64.b64encode(encode_payload({**heartbeat(), "trigger": "media"})).decode(),
        "payload_encoding": "gzip",
    }[field]
    envelope = decode_envelope(canonical_json(body))
    with pytest.raises(ProtocolError) as refused:
        verify_envelope(envelope, raw_public(key))
    assert refused.value.reason == "bad_signature"


def test_another_key_does_not_verify(key: Ed25519PrivateKey) -> None:
    envelope = decode_envelope(encode_envelope(key, HOST, 1, NOW, b"{}"))
    with pytest.raises(ProtocolError, match="bad_signature"):
        verify_envelope(envelope, raw_public(Ed25519PrivateKey.generate()))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"x" * 600_000, "too_large"),
        (b"\xff\xfe", "malformed_json"),
        (b"[1, 2]", "schema_violation"),
        (b'{"v": 2}', "unsupported_version"),
        (b'{"v": 1}', "schema_violation"),
        (b'{"v":1,"v":1}', "schema_violation"),
    ],
)
def test_malformed_envelopes_are_refused_with_their_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        decode_envelope(body)
    assert refused.value.reason == reason
    assert 400 <= refused.value.http_status < 500


def test_a_gzip_bomb_is_refused_without_inflating_it(key: Ed25519PrivateKey) -> None:
    bomb = gzip.compress(b" " * (20 * 1024 * 1024))
    body = json.loads(encode_envelope(key, HOST, 1, NOW, b"{}", compress=False))
    body["payload"], body["payload_encoding"] = base64.b64encode(bomb).decode(), "gzip"
    with pytest.raises(ProtocolError) as refused:
        decode_envelope(canonical_json(body)).decoded_payload()
    assert refused.value.reason == "payload_too_large"


def test_payload_validation_names_the_offending_field() -> None:
    validate_payload(heartbeat())
    broken = {**heartbeat(), "summary": {"compliant": "yes"}}
    with pytest.raises(ProtocolError) as refused:
        validate_payload(broken)
    assert refused.value.reason == "bad_payload" and "summary" in refused.value.detail
    with pytest.raises(ProtocolError):
        validate_payload({**heartbeat(), "host": {}})  # a heartbeat carries no state


def test_the_state_hash_ignores_what_changes_every_minute() -> None:
    host = {"hostname": "pc", "boot_time": "2026-11-27T07:00:00Z", "users": ["a"]}
    findings = [{"rule": "r", "status": "pass", "evidence": {"elapsed_ms": 3.1}}]
    inventory = {
        "software": [],
        "network": {"interfaces": [], "connections": [{"remote": "1.2.3.4"}]},
    }
    first = state_hash(host, findings, inventory)
    later = state_hash(
        {**host, "boot_time": "2026-11-28T07:00:00Z", "users": []},
        [{"rule": "r", "status": "pass", "evidence": {"elapsed_ms": 9.9}}],
        {**inventory, "network": {"interfaces": [], "connections": []}},
    )
    assert first == later
    assert state_hash(host, [{"rule": "r", "status": "fail", "evidence": {}}], inventory) != first


def test_a_policy_verifies_only_with_the_pinned_server_key(key: Ed25519PrivateKey) -> None:
    response = documents.policy_response(key, HOST, "p", "1", "id: p\n", NOW)
    signed = documents.verified_policy(response, raw_public(key), HOST, NOW, None)
    assert (signed.yaml, signed.issued_at) == (b"id: p\n", NOW)
    with pytest.raises(ProtocolError, match="bad_server_signature"):
        documents.verified_policy({**response, "yaml": "id: q\n"}, raw_public(key), HOST, NOW, None)
    with pytest.raises(ProtocolError, match="bad_server_signature"):
        documents.verified_policy(
            response, raw_public(Ed25519PrivateKey.generate()), HOST, NOW, None
        )


def test_a_policy_is_bound_to_one_host_a_moment_and_no_rollback(key: Ed25519PrivateKey) -> None:
    response = documents.policy_response(key, HOST, "p", "1", "id: p\n", NOW)
    public = raw_public(key)
    with pytest.raises(ProtocolError, match="another host"):
        documents.verified_policy(response, public, "h_" + "cd" * 16, NOW, None)
    with pytest.raises(ProtocolError, match="clock_skew"):
        documents.verified_policy(response, public, HOST, NOW + dt.timedelta(minutes=16), None)
    with pytest.raises(ProtocolError, match="clock_skew"):
        documents.verified_policy(response, public, HOST, NOW - dt.timedelta(minutes=16), None)
    with pytest.raises(ProtocolError, match="rollback"):
        documents.verified_policy(response, public, HOST, NOW, NOW + dt.timedelta(seconds=1))
    assert documents.verified_policy(response, public, HOST, NOW, NOW).issued_at == NOW
    unbound = {**response, "document": canonical_json({"sha256": response["sha256"]}).decode()}
    unbound["signature"] = documents.sign(
        key, documents.POLICY_DOMAIN, unbound["document"].encode()
    )
    with pytest.raises(ProtocolError, match="another host"):
        documents.verified_policy(unbound, public, HOST, NOW, None)


def test_a_receipt_names_exactly_one_report(key: Ed25519PrivateKey) -> None:
    body = encode_envelope(key, HOST, 7, NOW, b"{}")
    digest = decode_envelope(body).digest()
    signed = documents.receipt(key, HOST, 7, digest, "accepted", NOW, need_full=True)
    answer = {"accepted": 7, "receipt": signed}
    public = raw_public(key)

    assert documents.verified_receipt(answer, public, HOST, 7, digest) == documents.Receipt(
        "accepted", True, None
    )
    other = decode_envelope(encode_envelope(key, HOST, 7, NOW, b"{ }")).digest()
    for host, seq, report in ((HOST, 8, digest), ("h_" + "cd" * 16, 7, digest), (HOST, 7, other)):
        with pytest.raises(ProtocolError, match="not for report"):
            documents.verified_receipt(answer, public, host, seq, report)
    with pytest.raises(ProtocolError, match="no signed receipt"):
        documents.verified_receipt({"accepted": 7}, public, HOST, 7, digest)
    forged = documents.receipt(Ed25519PrivateKey.generate(), HOST, 7, digest, "accepted", NOW)
    with pytest.raises(ProtocolError, match="bad_server_signature"):
        documents.verified_receipt({"receipt": forged}, public, HOST, 7, digest)


def test_the_digest_covers_the_signed_fields_not_the_json_around_them(
    key: Ed25519PrivateKey,
) -> None:
    body = encode_envelope(key, HOST, 1, NOW, b"{}")
    copy = json.dumps(json.loads(body), indent=1).encode()
    assert decode_envelope(copy).digest() == decode_envelope(body).digest()
    assert decode_envelope(encode_envelope(key, HOST, 2, NOW, b"{}")).digest() != (
        decode_envelope(body).digest()
    )


def test_commands_are_bound_to_one_host_and_a_moment(key: Ed25519PrivateKey) -> None:
    command = documents.Command("c1", "recheck", NOW, NOW + dt.timedelta(hours=1))
    response = documents.commands_response(key, HOST, [command], NOW)
    assert documents.verified_commands(response, raw_public(key), HOST, NOW) == [command]
    with pytest.raises(ProtocolError, match="another host"):
        documents.verified_commands(response, raw_public(key), "h_" + "cd" * 16, NOW)
    with pytest.raises(ProtocolError, match="clock_skew"):
        documents.verified_commands(response, raw_public(key), HOST, NOW + dt.timedelta(hours=2))
    stale = documents.Command(
        "c0", "recheck", NOW - dt.timedelta(hours=2), NOW - dt.timedelta(minutes=1)
    )
    unknown = documents.commands_response(key, HOST, [stale], NOW)
    assert documents.verified_commands(unknown, raw_public(key), HOST, NOW) == []  # expired


def test_enrollment_proof_and_request_signatures(key: Ed25519PrivateKey) -> None:
    public = raw_public(key)
    auth.check_enrollment_proof("tok", public, auth.enrollment_proof(key, "tok", public))
    with pytest.raises(ProtocolError, match="bad_proof"):
        auth.check_enrollment_proof("other", public, auth.enrollment_proof(key, "tok", public))
    header = auth.request_authorization(key, HOST, "GET", "/api/v1/policy", NOW)
    host_id, stamp, signature = auth.parse_authorization(header)
    assert host_id == HOST
    auth.check_request(public, "GET", "/api/v1/policy", stamp, signature, NOW)
    with pytest.raises(ProtocolError, match="unauthorized"):
        auth.check_request(public, "GET", "/api/v1/commands", stamp, signature, NOW)
    with pytest.raises(ProtocolError, match="clock_skew"):
        auth.check_request(
            public, "GET", "/api/v1/policy", stamp, signature, NOW + dt.timedelta(minutes=6)
        )
    with pytest.raises(ProtocolError, match="clock_skew"):
        auth.check_request(public, "GET", "/api/v1/policy", 10**12, signature, NOW)


def test_signatures_of_one_kind_never_verify_as_another(key: Ed25519PrivateKey) -> None:
    """Domain tags: a report signature is no policy signature, whatever the bytes."""
    data = b"id: p\n"
    signature = documents.sign(key, documents.COMMANDS_DOMAIN, data)
    with pytest.raises(ProtocolError):
        documents.verify(raw_public(key), documents.POLICY_DOMAIN, data, signature)


def test_every_reason_maps_to_a_client_error_except_the_agent_side_one() -> None:
    assert {s for r, s in REASONS.items() if r != "bad_server_signature"} <= set(range(400, 500))


def test_the_state_hash_ignores_the_moving_start_of_the_history_window() -> None:
    def inventory(since: str) -> dict:
        return {"media": {"storage": [], "history": [], "history_since": since}}

    assert state_hash({}, [], inventory("2026-10-28T08:00:00+00:00")) == state_hash(
        {}, [], inventory("2026-10-28T09:00:00+00:00")
    )

"""No input reaches a 500: the API fuzzed from its own OpenAPI document (schemathesis), the
envelope parser fuzzed with arbitrary and mutated bytes, and signed payloads of every shape
(hypothesis) pushed through the whole ingest."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from agent.protocol.canonical import canonical_json
from agent.protocol.envelope import decode_envelope, encode_envelope, verify_envelope
from agent.protocol.errors import ProtocolError
from agent.protocol.payload import PAYLOAD_SCHEMA
from server.api.openapi import openapi_document
from server.api.reasons import ENDPOINT_REASONS
from server.wsgi import application
from tests.server.agents import SimulatedAgent, finding, utc_now

pytestmark = pytest.mark.server

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def test_the_openapi_document_describes_every_endpoint_and_reuses_the_payload_schema() -> None:
    document = openapi_document()
    assert set(document["paths"]) == {
        "/api/v1/enroll",
        "/api/v1/reports",
        "/api/v1/policy",
        "/api/v1/commands",
        "/api/v1/openapi.json",
        "/healthz",
    }
    payload = dict(document["components"]["schemas"]["Payload"])
    assert payload == {k: v for k, v in PAYLOAD_SCHEMA.items() if k != "$schema"}
    documented = {
        operation["operationId"]: {
            reason
            for response in operation["responses"].values()
            for reason in response.get("content", {})
            .get("application/json", {})
            .get("schema", {})
            .get("properties", {})
            .get("error", {})
            .get("enum", [])
        }
        for path in document["paths"].values()
        for operation in path.values()
    }
    for endpoint, reasons in ENDPOINT_REASONS.items():
        assert documented[endpoint] == set(reasons)


@pytest.fixture
def test_transaction_kept_open() -> Iterator[None]:
    """schemathesis calls the WSGI app directly, and Django closes "old" connections around
    every request, which on PostgreSQL ends the test's transaction; Django's own test client
    switches that off the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@FUZZ
def test_no_request_the_schema_allows_or_forbids_gets_a_server_error(
    case: Any, db: None, test_transaction_kept_open: None
) -> None:
    case.call_and_validate(checks=CHECKS)


# --- the envelope parser -------------------------------------------------------------------


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_are_refused_only_with_protocol_errors(body: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_envelope(body)


# Strings hypothesis does not make by itself: NUL, lone surrogates, right-to-left marks.
_ODD_TEXT = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202e", "\ufeff"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | _ODD_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _valid_envelope() -> tuple[SimulatedAgent, dict[str, Any]]:
    simulated = SimulatedAgent(host_id="h_" + "ab" * 16)
    body = encode_envelope(
        simulated.key,
        simulated.host_id,
        7,
        utc_now(),
        canonical_json(simulated.heartbeat_payload("0" * 64)),
    )
    return simulated, json.loads(body)


@given(
    st.sampled_from(
        ["v", "host_id", "seq", "sent_at", "payload_encoding", "payload", "signature", "new"]
    ),
    _JSON,
)
@settings(max_examples=300, deadline=None)
def test_a_mutated_envelope_is_refused_only_with_protocol_errors(field: str, value: Any) -> None:
    simulated, envelope = _valid_envelope()
    assume(envelope.get(field) != value)
    envelope[field] = value
    try:
        decoded = decode_envelope(json.dumps(envelope).encode())
        verify_envelope(decoded, simulated.public_key)
        decoded.decoded_payload()
    except ProtocolError:
        return
    assert field == "v" and value == 1  # only an unchanged envelope could verify


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_flipped_bytes_of_an_envelope_are_refused_only_with_protocol_errors(
    data: st.DataObject,
) -> None:
    simulated, envelope = _valid_envelope()
    original = json.dumps(envelope).encode()
    body = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(body) - 1))
        body[index] = data.draw(st.integers(0, 255))
    try:
        decoded = decode_envelope(bytes(body))
        verify_envelope(decoded, simulated.public_key)
    except ProtocolError:
        return
    # Whatever still verifies says exactly what the agent signed (e.g. a flip in whitespace).
    assert decoded.signing_input() == decode_envelope(original).signing_input()


# --- signed payloads through the whole ingest ----------------------------------------------

_PAYLOAD_PATHS = [
    ("kind",),
    ("trigger",),
    ("state_hash",),
    ("policy",),
    ("policy", "id"),
    ("summary",),
    ("summary", "passed"),
    ("answered_commands",),
    ("host",),
    ("host", "hostname"),
    ("host", "machine_id"),
    ("host", "asset"),
    ("findings",),
    ("findings", 0),
    ("findings", 0, "rule"),
    ("findings", 0, "evidence"),
    ("findings", 0, "evidence", "path"),
    ("findings", 0, "title"),
    ("findings", 0, "title", "zh"),
    ("findings", 0, "message", "en"),
    ("policy", "version"),
    ("host", "os_name"),
    ("host", "asset", "department"),
    ("findings", 0, "remedy"),
    ("inventory",),
    ("errors",),
    ("extra",),
]


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


@given(
    st.lists(
        st.tuples(st.sampled_from(_PAYLOAD_PATHS), st.one_of(_ODD_TEXT, _JSON)),
        min_size=1,
        max_size=3,
    )
)
@settings(FUZZ, max_examples=150)
def test_no_signed_payload_gets_a_server_error(
    client: Client, agent: SimulatedAgent, mutations: list[tuple[tuple[Any, ...], Any]]
) -> None:
    payload = agent.full_payload(findings=[finding("usb", "fail", path="/media/x")])
    for path, value in mutations:
        try:
            _set(payload, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    raw = json.dumps(payload, allow_nan=True).encode()  # NaN and NUL included on purpose

    response = client.post(
        "/api/v1/reports", data=agent.envelope(raw), content_type="application/json"
    )

    assert response.status_code in (200, 400, 413), response.content
    if response.status_code != 200:
        assert response.json()["error"] in ("bad_payload", "payload_too_large")

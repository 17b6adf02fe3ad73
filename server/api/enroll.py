"""POST /api/v1/enroll: a machine asks to be trusted with its new key and a unit's token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from jsonschema import Draft202012Validator

from agent.probes.keytext import decode_public_key
from agent.protocol.envelope import load_json_object
from agent.protocol.errors import ProtocolError
from server.api.bodies import read_body
from server.api.guard import agent_endpoint
from server.api.schemas import ENROLL_REQUEST
from server.fleet.enrollment import EnrollmentRequest, enroll
from server.fleet.identity import identity_from
from server.lib.server_key import current_server_key, public_key_text

MAX_ENROLL_BYTES = 64 * 1024
_validator = Draft202012Validator(ENROLL_REQUEST)


def parse_enrollment(body: bytes) -> EnrollmentRequest:
    data: dict[str, Any] = load_json_object(body, "the enrollment request")
    error = next(iter(_validator.iter_errors(data)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "<request>"
        raise ProtocolError("schema_violation", f"{where}: {error.message[:300]}")
    try:
        public_key = decode_public_key(data["public_key"])
    except ValueError as exc:
        raise ProtocolError("schema_violation", f"public_key: {exc}") from None
    return EnrollmentRequest(
        token=data["token"],
        public_key=public_key,
        proof=data["proof"],
        identity=identity_from(data["host"]),
    )


@agent_endpoint("POST")
def enroll_view(request: HttpRequest) -> HttpResponse:
    host = enroll(parse_enrollment(read_body(request, MAX_ENROLL_BYTES)), timezone.now())
    return JsonResponse(
        {
            "host_id": host.host_id,
            "server_public_key": public_key_text(current_server_key()),
            "unit": host.unit.path,
            "report_interval_seconds": host.report_interval_seconds,
        },
        status=201,
    )

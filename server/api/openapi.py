"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of everything agents call.

Built from the same schemas and reason lists the code uses (`schemas`, `reasons`,
`agent.protocol.payload.PAYLOAD_SCHEMA`), so the document cannot drift from the checks.
"""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from agent import __version__
from agent.protocol.errors import REASONS
from agent.protocol.payload import PAYLOAD_SCHEMA
from server.api import schemas
from server.api.reasons import reasons_by_status

_JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}, **extra}


def _error_schema(reasons: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {"error": {"enum": reasons}, "detail": {"type": "string"}}
    if "replay" in reasons:  # the server has the report: a signed receipt says so
        properties["receipt"] = _ref("Receipt")
    return {
        "type": "object",
        "required": ["error", "detail"],
        "properties": properties,
        "additionalProperties": False,
    }


def _refusals(endpoint: str) -> dict[str, Any]:
    return {
        str(status): _json(_error_schema(reasons), "Refused: " + ", ".join(reasons))
        for status, reasons in reasons_by_status(endpoint).items()
    }


_SIGNED: list[dict[str, list[str]]] = [{"custosSignature": []}]


def _signed_get(
    summary: str, ok: dict[str, Any], endpoint: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": endpoint,
            "summary": summary,
            "security": _SIGNED,
            "responses": {"200": ok, **extra, **_refusals(endpoint)},
        }
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    payload = {k: v for k, v in PAYLOAD_SCHEMA.items() if k != "$schema"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Custos collection server: agent API",
            "version": __version__,
            "description": (
                "Every refusal is a JSON body {error, detail}; error is a reason code of "
                "agent/protocol/errors.py. A replay refusal also carries the signed receipt "
                "an acknowledgement has. See docs/protocol.md."
            ),
        },
        "paths": {
            "/api/v1/enroll": {
                "post": {
                    "operationId": "enroll",
                    "summary": "Enroll a machine with a unit's token and its new Ed25519 key",
                    "requestBody": {
                        "required": True,
                        "content": {_JSON: {"schema": _ref("EnrollRequest")}},
                    },
                    "responses": {
                        "201": _json(_ref("EnrollResponse"), "Enrolled; pin server_public_key"),
                        **_refusals("enroll"),
                    },
                }
            },
            "/api/v1/reports": {
                "post": {
                    "operationId": "reports",
                    "summary": "Deliver one signed report envelope",
                    "requestBody": {
                        "required": True,
                        "content": {_JSON: {"schema": _ref("Envelope")}},
                    },
                    "responses": {
                        "200": _json(_ref("Ack"), "Accepted and stored"),
                        **_refusals("reports"),
                    },
                }
            },
            "/api/v1/policy": _signed_get(
                "The policy assigned to the host's unit, signed by the server key",
                _json(
                    _ref("PolicyDocument"),
                    "The policy",
                    headers={"ETag": {"schema": {"type": "string"}}},
                ),
                "policy",
                {
                    "204": {"description": "No policy is assigned to the host's units"},
                    "304": {"description": "The policy named by If-None-Match is current"},
                },
            ),
            "/api/v1/commands": _signed_get(
                "The host's pending commands, signed by the server key",
                _json(_ref("CommandsDocument"), "Pending commands"),
                "commands",
                {},
            ),
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness of the server and its database",
                    "responses": {
                        "200": _json(_ref("Health"), "Serving"),
                        "503": _json(_ref("Health"), "The database does not answer"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "EnrollRequest": schemas.ENROLL_REQUEST,
                "EnrollResponse": schemas.ENROLL_RESPONSE,
                "Envelope": schemas.ENVELOPE,
                "Payload": payload,
                "Ack": schemas.ACK,
                "Receipt": schemas.RECEIPT,
                "PolicySummary": schemas.POLICY_SUMMARY,
                "PolicyDocument": schemas.POLICY_DOCUMENT,
                "CommandsDocument": schemas.COMMANDS_DOCUMENT,
                "Health": schemas.HEALTH,
                "Error": _error_schema(sorted(REASONS)),
            },
            "securitySchemes": {
                "custosSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        "Custos host_id=<id>, ts=<unix seconds>, sig=<base64 Ed25519 over the "
                        "method, path with query and ts> (agent/protocol/auth.py)"
                    ),
                }
            },
        },
    }


@require_GET
def openapi_view(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document())

"""GET /healthz, and the security headers every answer carries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.server


def test_a_healthy_server_says_ok(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_server_whose_database_does_not_answer_says_unavailable(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.api import health

    class Unreachable:
        def cursor(self) -> Any:
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Unreachable())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_answers_carry_the_security_headers(client: Client, db: None) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_agent_endpoints_answer_405_to_other_methods(client: Client, db: None) -> None:
    assert client.get("/api/v1/reports").status_code == 405
    assert client.post("/api/v1/policy").status_code == 405
    assert "POST" in client.get("/api/v1/enroll")["Allow"]

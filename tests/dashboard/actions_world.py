"""Helpers of the admin-action tests (rectification, spot checks, policies, tokens, audit,
alerts): browsers signed in as a persona of conftest's `world`, and agents that enroll and
report through the real API, so every finding and change is what ingest makes of an agent's
report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from server.accounts.models import Unit
from server.fleet.tokens import create_token
from tests.server.agents import SimulatedAgent, finding


def signed_in(user: User | None) -> Client:
    """A browser: signed in as `user`, or anonymous for None."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def enroll(unit: Unit, hostname: str = "pc-0417") -> SimulatedAgent:
    """An office PC enrolled into `unit` through POST /api/v1/enroll."""
    _, token = create_token(unit, uses=1, expires_days=1, actor="cli:test")
    agent = SimulatedAgent(hostname=hostname)
    response = Client().post(
        "/api/v1/enroll", data=agent.enrollment_body(token), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    agent.enrolled(response.json())
    return agent


def send(
    agent: SimulatedAgent,
    findings: list[dict[str, Any]],
    answered: list[str] | None = None,
    sent_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A full report through POST /api/v1/reports; the server's answer."""
    body = agent.envelope(agent.full_payload(findings, answered=answered), sent_at=sent_at)
    response = Client().post("/api/v1/reports", data=body, content_type="application/json")
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer


def usb_finding(status: str, severity: str = "high") -> dict[str, Any]:
    """The unregistered-USB-stick rule as the agent reports it, failing or passing."""
    result = finding("no-unregistered-storage", status)
    result.update(
        category="media",
        severity=severity,
        title={"zh": "未使用未登记的U盘", "en": "No unregistered USB storage"},
        message={
            "zh": "发现未登记的U盘 <SanDisk>" if status == "fail" else "未发现未登记的U盘",
            "en": "unregistered USB stick <SanDisk> found"
            if status == "fail"
            else "no unregistered USB stick",
        },
        evidence={"devices": [{"vendor_id": "0781", "product_id": "5567", "serial": "4C53<b>"}]}
        if status == "fail"
        else {},
    )
    return result

"""Server tests: Django configured here (not in pyproject), so the agent's tests run without it.

The server gets a throw-away data directory for the session. `CUSTOS_DATABASE_URL`, when set,
points the whole suite at PostgreSQL (pytest-django creates and drops `test_<name>` there);
otherwise the tests run on SQLite.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
_DATA_DIR_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: collection server tests (Django)")
    data_dir = tempfile.mkdtemp(prefix="custos-server-tests-")
    config.stash[_DATA_DIR_KEY] = data_dir
    os.environ["CUSTOS_DATA_DIR"] = data_dir
    os.environ["CUSTOS_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "server.settings"
    import django

    django.setup()


def pytest_unconfigure(config: pytest.Config) -> None:
    data_dir = config.stash.get(_DATA_DIR_KEY, None)
    if data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)


# --- personas and fixtures -----------------------------------------------------------------


@pytest.fixture
def county(db: None) -> Any:
    """The county office whose machines most tests enroll: 北京市/海淀区/网信办."""
    from server.accounts.units import add_unit_path

    unit, _ = add_unit_path("北京市/海淀区/网信办", "cli:test")
    return unit


@pytest.fixture
def enrollment_token(county: Any) -> str:
    from server.fleet.tokens import create_token

    _, token = create_token(county, uses=5, expires_days=7, actor="cli:test")
    return token


@pytest.fixture
def agent(client: Any, enrollment_token: str) -> Iterator[Any]:
    """An office PC enrolled through the API, ready to report."""
    from tests.server.agents import SimulatedAgent

    simulated = SimulatedAgent()
    response = client.post(
        "/api/v1/enroll",
        data=simulated.enrollment_body(enrollment_token),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    simulated.enrolled(response.json())
    yield simulated


@pytest.fixture
def office_policy(county: Any) -> Any:
    """The bundled intranet office baseline, assigned to the county office."""
    from server.fleet.policies import add_policy

    path = POLICIES / "intranet-office.yaml"
    return add_policy(path.read_bytes(), str(path), county, "cli:test")

"""Fixtures of the end-to-end tests: real server and agent processes on loopback.

The server processes use SQLite in their own data directory, like `tests.server.processes`
gives them, unless the suite runs with `CUSTOS_DATABASE_URL`: then they use a PostgreSQL
database of their own, `custos_e2e_<pid>`, created for this test session from that URL and
dropped at its end (the URL's own database, and pytest-django's `test_…` one, stay untouched).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.helpers import E2E_POLICY, AgentProcess, ServerProcess, free_port

DATABASE_URL_VARIABLE = "CUSTOS_DATABASE_URL"


def _drop(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def e2e_database_url() -> Iterator[str | None]:
    """None on SQLite; else the URL of this session's fresh PostgreSQL database."""
    base = os.environ.get(DATABASE_URL_VARIABLE)
    if not base:
        yield None
        return
    import psycopg
    from psycopg import sql

    name = f"custos_e2e_{os.getpid()}"
    _drop(base, name)  # left over by a session that was killed
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    finally:
        _drop(base, name)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "e2e-policy.yaml"
    path.write_text(E2E_POLICY, encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path, e2e_database_url: str | None) -> Iterator[ServerProcess]:
    """Migrated, with the test unit, on a free loopback port; not started."""
    process = ServerProcess(tmp_path / "server", e2e_database_url, free_port())
    process.prepare()
    on_sqlite = (process.data / "custos.sqlite3").exists()
    assert on_sqlite == (e2e_database_url is None), "the server uses the wrong database"
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def make_agent(tmp_path: Path, policy_file: Path) -> Iterator[Callable[[str], AgentProcess]]:
    """Agents with their own directories; any still running at the end are killed."""
    made: list[AgentProcess] = []

    def make(name: str) -> AgentProcess:
        agent = AgentProcess(tmp_path / "agents", name, policy_file)
        made.append(agent)
        return agent

    try:
        yield make
    finally:
        for agent in made:
            agent.cleanup()

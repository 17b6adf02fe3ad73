"""Dashboard tests: Django configured as for tests/server, and the personas every page test
uses.

The server suite's conftest configures Django in its `pytest_configure`; pytest only runs that
hook when it collects tests/server, so this directory does the same setup itself (its own
throw-away data directory), unless Django is configured already.

Personas (all in `world`): a superuser, the admin and the auditor of 海淀区 (a county with
two offices), and the admin of 朝阳区, a county next door whose hosts are out of the first
ones' scope; the anonymous visitor is a client with no session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import pytest

_DATA_DIR_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: collection server tests (Django)")
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    data_dir = tempfile.mkdtemp(prefix="custos-dashboard-tests-")
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


@dataclass
class World:
    province: Any  # 北京市
    county: Any  # 北京市/海淀区
    office: Any  # 北京市/海淀区/网信办
    school: Any  # 北京市/海淀区/教育局
    other_county: Any  # 北京市/朝阳区
    other_office: Any  # 北京市/朝阳区/财政局
    superuser: Any
    admin: Any  # admin of 海淀区
    auditor: Any  # auditor of 海淀区
    other_admin: Any  # admin of 朝阳区


@pytest.fixture
def world(db: None) -> World:
    from server.accounts.models import Role
    from tests.dashboard.seed import person, unit

    county = unit("北京市/海淀区")
    other_county = unit("北京市/朝阳区")
    return World(
        province=county.parent,
        county=county,
        office=unit("北京市/海淀区/网信办"),
        school=unit("北京市/海淀区/教育局"),
        other_county=other_county,
        other_office=unit("北京市/朝阳区/财政局"),
        superuser=person("root"),
        admin=person("wang", county, Role.ADMIN),
        auditor=person("li", county, Role.AUDITOR),
        other_admin=person("zhao", other_county, Role.ADMIN),
    )


@pytest.fixture
def fleet(db: None) -> Any:
    from tests.dashboard.seed import Fleet

    return Fleet()

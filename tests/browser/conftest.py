"""Browser tests: the dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven
by the `playwright` package; `playwright install` is never needed) against a real
`custos-server run` on loopback.

Django is configured in this process the way tests/dashboard does it (a throw-away data
directory, unless the suite configured it already), only because the machine descriptions
of tests.dashboard.seed import server models; the servers under test are separate processes
with their own data directories and SQLite databases.

With CUSTOS_DATABASE_URL (the PostgreSQL pass of scripts/test) each server gets a fresh
PostgreSQL database of its own instead of SQLite.

The browser is module-scoped on purpose: Playwright's synchronous API keeps an event loop
registered on the main thread while it runs, and Django refuses ORM calls when it sees one,
so it must be gone before the next module's database tests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.browser.world import Dashboard, World

_DATA_DIR_KEY = pytest.StashKey[str]()
CHROMIUM = Path("/usr/bin/chromium")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: collection server tests (Django)")
    config.addinivalue_line("markers", "browser: drives the dashboard in headless Chromium")
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    data_dir = tempfile.mkdtemp(prefix="custos-browser-tests-")
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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium): no browser to drive")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed")
    from tests.browser.world import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    """A fresh migrated server of the test's own (not started: add units and users first)."""
    from tests.browser.world import Dashboard, fresh_database

    with fresh_database(hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]) as database_url:
        made = Dashboard(tmp_path / "server", database_url)
        try:
            yield made
        finally:
            made.stop()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One seeded, running server shared by the tests that only read (layout, screenshots)."""
    from tests.browser.world import Dashboard, fresh_database, seed_world

    with fresh_database("world") as database_url:
        made = Dashboard(tmp_path_factory.mktemp("world") / "server", database_url)
        try:
            yield seed_world(made)
        finally:
            made.stop()

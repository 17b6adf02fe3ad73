"""Every app's Chinese catalogue is complete and compiled, and pages speak the language the
browser asks for (Chinese by default).

"Complete" is checked three ways: no entry untranslated or fuzzy; running makemessages on a
copy of the app finds no string the catalogue lacks (a string added to a template or module
but never extracted); and the committed .mo holds exactly what the .po says.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.seed import Machine, client_for, page_text

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted((ROOT / "server").glob("*/locale/*/LC_MESSAGES/django.po"))
APPS_WITH_TEMPLATES = sorted(
    path.parent.name for path in (ROOT / "server").glob("*/templates") if path.is_dir()
)


def app_of(po: Path) -> Path:
    return po.parents[3]


def msgattrib(po: Path, *options: str) -> list[str]:
    """The msgids (other than the header) that `msgattrib` selects."""
    completed = subprocess.run(
        ["msgattrib", *options, "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        line
        for line in completed.stdout.splitlines()
        if line.startswith("msgid ") and line != 'msgid ""'
    ]


@pytest.fixture(scope="module", autouse=True)
def gettext_tools() -> None:
    if shutil.which("msgfmt") is None or shutil.which("msgattrib") is None:
        pytest.fail("GNU gettext is missing: scripts/install installs it (apt-get install gettext)")


def test_every_app_with_pages_has_a_chinese_catalogue() -> None:
    with_catalogue = {app_of(po).name for po in CATALOGUES if po.parts[-3] == "zh_Hans"}

    missing = [app for app in APPS_WITH_TEMPLATES if app not in with_catalogue]
    assert "dashboard" in APPS_WITH_TEMPLATES and "accounts" in APPS_WITH_TEMPLATES
    assert missing == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: app_of(po).name)
def test_no_entry_is_untranslated_or_fuzzy(po: Path) -> None:
    assert msgattrib(po, "--untranslated") == []
    assert msgattrib(po, "--only-fuzzy") == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: app_of(po).name)
def test_the_compiled_catalogue_matches_the_po_file(po: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)

    with fresh.open("rb") as source:
        expected = gettext.GNUTranslations(source)._catalog  # type: ignore[attr-defined]
    with po.with_suffix(".mo").open("rb") as source:
        committed = gettext.GNUTranslations(source)._catalog  # type: ignore[attr-defined]
    assert committed == expected, f"run `django-admin compilemessages` in {app_of(po)}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: app_of(po).name)
def test_makemessages_finds_no_string_the_catalogue_lacks(po: Path, tmp_path: Path) -> None:
    copy = tmp_path / app_of(po).name
    shutil.copytree(app_of(po), copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "CUSTOS_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }
    language = po.parts[-3]
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", language, "--no-obsolete"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )

    extracted = copy / "locale" / language / "LC_MESSAGES" / "django.po"
    assert msgattrib(extracted, "--untranslated") == []
    assert msgattrib(extracted, "--only-fuzzy") == []


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def host(world: Any, fleet: Any) -> Any:
    (pc,) = fleet.machines(world.office, Machine(vrv_running=False))
    return pc


def test_pages_are_chinese_when_the_browser_asks_for_chinese_or_nothing(
    world: Any, host: Any
) -> None:
    for language in ("zh-CN,zh;q=0.9,en;q=0.8", ""):
        browser = client_for(world.admin, language)
        overview = page_text(browser.get("/").content)
        assert "合规率" in overview and "下级单位合规排名" in overview
        detail = page_text(browser.get(f"/hosts/{host.agent.host_id}/").content)
        assert "最新检查结果" in detail and "终端注册客户端已安装并运行（北信源）" in detail
        assert "不合格" in detail


def test_pages_are_english_when_the_browser_asks_for_english(world: Any, host: Any) -> None:
    browser = client_for(world.admin, "en-US,en;q=0.9")

    overview = page_text(browser.get("/").content)
    assert "Compliance rate" in overview and "合规率" not in overview
    detail = page_text(browser.get(f"/hosts/{host.agent.host_id}/").content)
    assert "Terminal registration client installed and running (VRV)" in detail


def test_the_trend_labels_reach_the_chart_in_the_readers_language(world: Any, host: Any) -> None:
    from django.utils import timezone

    from server.dashboard.rollup import rollup_today

    rollup_today(timezone.now())

    data = client_for(world.admin, "zh-CN").get("/").context["trend_data"]
    assert data["labels"]["rate"] == "合规率（%）"


def test_a_host_status_is_not_translated_as_django_admin_words() -> None:
    """Django's own catalogue says 有效 for "active" (of a user account), and a project
    catalogue loses to it for an identical msgid: host statuses carry a context."""
    from django.utils import translation

    from server.dashboard.labels import HOST_STATUSES, label

    with translation.override("zh-hans"):
        shown = [label(HOST_STATUSES, code) for code in ("active", "silent", "revoked", "clone")]
    assert shown == ["正常", "失联", "已注销", "疑似克隆"]

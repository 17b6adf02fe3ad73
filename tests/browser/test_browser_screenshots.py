"""The page tour of docs/dashboard.md, photographed from the seeded world at 1280×800 in
zh-CN (and the overview once in English), each after checking the page shows what it is for.

The pictures go to a temporary directory, so an ordinary test run leaves the tree alone;
`CUSTOS_UPDATE_SCREENSHOTS=1` writes them to docs/screenshots/ instead (what the docs show).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.pages import DESKTOP, Visitor, visitor
from tests.browser.world import World
from tests.server.processes import ROOT

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.browser]

MAX_BYTES = 400_000  # a docs picture, not a poster

BROKEN_POLICY = """\
id: xuanwu-office
version: "2026.2"
title: {zh: 玄武区办公终端基线, en: Xuanwu office PC baseline}
schedule: {interval: 4h, jitter: 10m}
required_software:
  - id: terminal-registration-client
    severity: critcal
    title: {zh: 终端注册客户端已安装并运行, en: Terminal registration client installed and running}
    match:
      any:
        - name: 北信源|VRV
    must_run:
      processes: ['^vrv']
asset:
  - id: asset-fields-complete
    severity: medium
    title: {zh: 资产登记信息完整, en: Asset registration complete}
    required_fields: [machine_number, responsible_persn]
"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("CUSTOS_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


def photograph(person: Visitor, shots: Path, name: str) -> Path:
    """A viewport-sized PNG of the page as it is now; checked to be one, of that size."""
    path = shots / f"{name}.png"
    person.page.screenshot(path=str(path), full_page=False)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (DESKTOP["width"], DESKTOP["height"])
    assert len(data) < MAX_BYTES, f"{name}.png is {len(data)} bytes"
    person.assert_quiet()
    return path


def _overview(person: Visitor, world: World) -> None:
    person.goto("/")
    person.page.wait_for_selector("#trend-chart")
    assert "南京市" in person.text("h1")
    assert person.t("Compliance rate") in person.text()


def _overview_trend(person: Visitor, world: World) -> None:
    person.goto("/")
    person.page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('trend-chart'))"
    )
    person.page.evaluate("() => document.getElementById('trend-heading').scrollIntoView()")
    assert "玄武区" in person.text() and "秦淮区" in person.text()  # the counties ranked


def _hosts(person: Visitor, world: World) -> None:
    person.goto("/hosts/?sort=hostname")
    assert "XW-BGS-PC01" in person.text()


def _host(person: Visitor, world: World) -> None:
    person.goto(f"/hosts/{world.pcs['XW-BGS-PC05'].host_id}/")
    assert "XW-BGS-2024-0005" in person.text()


def _host_findings(person: Visitor, world: World) -> None:
    person.goto(f"/hosts/{world.pcs['XW-BGS-PC05'].host_id}/")
    person.page.locator("#findings-heading").scroll_into_view_if_needed()
    person.page.locator("table.findings details").first.locator("summary").click()
    person.page.evaluate("document.getElementById('findings-heading').scrollIntoView()")
    assert "no-unregistered-storage" in person.text()


def _violations(person: Visitor, world: World) -> None:
    person.goto("/violations/")
    person.page.locator("details.violation > summary").first.click()
    person.page.locator("details.violation .violation-hosts table").first.wait_for()
    assert "no-unregistered-storage" in person.text() or "terminal" in person.text()


def _rectifications(person: Visitor, world: World) -> None:
    person.goto("/rectifications/?status=all")
    text = person.text()
    for status in ("open", "re-checked", "closed", "overdue"):
        assert person.t(status) in text, status


def _notice(person: Visitor, world: World) -> None:
    person.goto(f"/rectifications/{world.notices['open']}/print/")
    assert "TeamViewer" in person.text() or "远程" in person.text()


def _tokens(person: Visitor, world: World) -> None:
    """A token made for the new PC of a meeting room: the page shows it this once."""
    person.goto("/tokens/")
    assert "首批终端" in person.text()
    person.page.get_by_label(person.t("Uses")).fill("2")
    person.page.get_by_label(person.t("Note")).fill("会议室新电脑")
    with person.page.expect_navigation() as navigation:
        person.page.get_by_role("button", name=person.t("Create"), exact=True).click()
    assert navigation.value is not None and navigation.value.status == 201
    assert person.page.locator("#ad-clear-token").input_value()
    assert "会议室新电脑" in person.text()


def _audit(person: Visitor, world: World) -> None:
    """The county admin's entries: the tests' own sign-ins would fill the unfiltered page."""
    person.goto(f"/audit/?actor={world.county_admin}")
    assert person.t("issued a rectification notice") in person.text("tbody")


def _assets(person: Visitor, world: World) -> None:
    person.goto("/assets/")
    assert "10.32.2.23" in person.text()  # the two PCs sharing an address


PAGES: dict[str, Callable[[Visitor, World], None]] = {
    "overview": _overview,
    "overview-trend": _overview_trend,
    "hosts": _hosts,
    "host": _host,
    "host-findings": _host_findings,
    "violations": _violations,
    "rectifications": _rectifications,
    "notice-print": _notice,
    "tokens": _tokens,
    "audit": _audit,
    "assets": _assets,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_of_the_tour_shows_its_content_and_is_photographed(
    chromium: Browser, world: World, shots: Path, name: str
) -> None:
    with visitor(chromium, world.url) as person:
        person.sign_in(world.city_admin)
        PAGES[name](person, world)
        photograph(person, shots, name)


def test_a_rejected_policy_is_photographed_with_its_problems_under_their_lines(
    chromium: Browser, world: World, shots: Path
) -> None:
    with visitor(chromium, world.url) as person:
        person.sign_in(world.county_admin)
        person.goto("/policies/")
        person.page.get_by_label(person.t("Or the policy text")).fill(BROKEN_POLICY)
        with person.page.expect_navigation() as navigation:
            person.page.get_by_role("button", name=person.t("Check and store")).click()
        assert navigation.value is not None and navigation.value.status == 400
        person.failed.remove(f"POST {world.url}/policies/ -> 400")  # the refusal, expected
        person.page.wait_for_load_state("networkidle")
        bad = person.page.locator("tr.ad-bad")
        assert bad.count() == 2
        assert bad.nth(0).locator("th").inner_text() == "7"
        assert "critcal" in bad.nth(0).inner_text()
        assert bad.nth(1).locator("th").inner_text() == "18"
        person.page.locator("#ad-rejected-title").scroll_into_view_if_needed()
        photograph(person, shots, "policies-error")


def test_the_overview_is_photographed_in_english_too(
    chromium: Browser, world: World, shots: Path
) -> None:
    with visitor(chromium, world.url, locale="en-GB") as person:
        person.sign_in(world.city_admin)
        person.goto("/")
        person.page.wait_for_selector("#trend-chart")
        assert person.language() == "en"
        assert "Compliance rate" in person.text()
        photograph(person, shots, "overview-en")

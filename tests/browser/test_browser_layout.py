"""The pages fit a desk screen (1280×800) and a tablet held upright (768×1024): nothing makes
the page scroll sideways (wide tables scroll inside their own box), every form control has
an accessible name (a label, aria-label or aria-labelledby; what a screen reader announces),
and the overview's trend chart keeps the same height whether its script has drawn it or not
(the space is reserved, so nothing below it jumps when the chart appears).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import DESKTOP, TABLET, Visitor, visitor
from tests.browser.world import World

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.browser]

VIEWPORTS = {"desktop": DESKTOP, "tablet": TABLET}
CONTROLS = (
    "input:not([type=hidden]), select, textarea, button, "
    "[role=button], [role=checkbox], [role=combobox], [role=textbox]"
)
SOME_TEXT = re.compile(r"\S")
# A field's name must come from a label (or aria-label/-labelledby): a placeholder or title
# alone, which the accessible-name algorithm would fall back to, disappears or hides.
LABELLED = """node => {
  const some = text => (text || "").trim().length > 0;
  if (node.matches("button, input[type=submit], input[type=button], input[type=reset], [role=button]")) {
    return true;
  }
  if (some(node.getAttribute("aria-label"))) return true;
  const ids = (node.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
  if (ids.some(id => some((document.getElementById(id) || {}).textContent))) return true;
  return Array.from(node.labels || []).some(label => some(label.textContent));
}"""


def _host(name: str) -> Callable[[World], str]:
    return lambda world: f"/hosts/{world.pcs[name].host_id}/"


PAGES: dict[str, Callable[[World], str]] = {
    "login": lambda world: "/login/",
    "overview": lambda world: "/",
    "hosts": lambda world: "/hosts/",
    "host": _host("XW-BGS-PC05"),
    "violations": lambda world: "/violations/",
    "assets": lambda world: "/assets/",
    "rectifications": lambda world: "/rectifications/?status=all",
    "rectification": lambda world: f"/rectifications/{world.notices['open']}/",
    "issue": lambda world: (
        f"/rectifications/new/?host={world.pcs['QH-CZJ-PC04'].host_id}&rule=no-internet-reachable"
    ),
    "notice-print": lambda world: f"/rectifications/{world.notices['open']}/print/",
    "spot-checks": lambda world: "/spot-checks/",
    "policies": lambda world: "/policies/",
    "policy": lambda world: f"/policies/{world.policy_pk}/",
    "tokens": lambda world: "/tokens/",
    "audit": lambda world: "/audit/",
    "alerts": lambda world: "/alerts/",
}


def sideways_overflow(person: Visitor) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrollbar)."""
    width, client = person.page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    return max(0, int(width) - int(client) - 1)


def unnamed_controls(person: Visitor) -> list[str]:
    """The form controls a screen reader would announce without a name: every one a person
    can reach once each disclosure (<details>, the user menu included) is open; controls
    that are never shown (the language switch's no-JS button) are not announced either."""
    person.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    person.page.wait_for_load_state("networkidle")
    controls = person.page.locator(CONTROLS).locator("visible=true")
    missing = []
    for index in range(controls.count()):
        control = controls.nth(index)
        try:
            expect(control).to_have_accessible_name(SOME_TEXT, timeout=200)
            assert control.evaluate(LABELLED)
        except AssertionError:
            missing.append(control.evaluate("node => node.outerHTML.slice(0, 200)"))
    return missing


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_fits_the_window_and_names_every_form_control(
    chromium: Browser, world: World, name: str, viewport: str
) -> None:
    with visitor(chromium, world.url, viewport=VIEWPORTS[viewport]) as person:
        if name != "login":
            person.sign_in(world.city_admin)
        person.goto(PAGES[name](world))
        assert sideways_overflow(person) == 0, f"{name} scrolls sideways at {viewport}"
        unnamed = unnamed_controls(person)
        assert unnamed == [], "\n".join(unnamed)
        person.assert_quiet()


def chart_geometry(person: Visitor) -> tuple[float, float]:
    """(height of the chart's box, top of the section after it), in CSS pixels."""
    box = person.page.locator(".chart-box").bounding_box()
    after = person.page.locator("#children-heading").bounding_box()
    assert box is not None and after is not None
    return box["height"], after["y"]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_trend_chart_reserves_its_height_before_its_data_is_drawn(
    chromium: Browser, world: World, viewport: str
) -> None:
    with visitor(chromium, world.url, viewport=VIEWPORTS[viewport]) as person:
        person.sign_in(world.city_admin)
        # Before: the page as it is before any script has drawn (chart scripts held back).
        person.page.route(re.compile(r".*/(chart\.umd\.min|overview)\.js$"), lambda r: r.abort())
        person.goto("/")
        canvas = person.page.locator("#trend-chart")
        assert canvas.evaluate("node => node.width") in (0, 300)  # untouched by Chart.js
        before = chart_geometry(person)

    with visitor(chromium, world.url, viewport=VIEWPORTS[viewport]) as person:
        person.sign_in(world.city_admin)
        person.goto("/")
        person.page.wait_for_function(
            "() => window.Chart && Chart.getChart(document.getElementById('trend-chart'))"
        )
        after = chart_geometry(person)
        person.assert_quiet()

    assert before[0] >= 150, f"the chart box is {before[0]} px high before drawing"
    assert abs(before[0] - after[0]) <= 1, (before, after)
    assert abs(before[1] - after[1]) <= 1, (before, after)

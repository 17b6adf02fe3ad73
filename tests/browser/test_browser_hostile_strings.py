"""Strings from agents are text, never markup or script, on every page that shows them.

Anyone with a PC can make an agent report anything: here two simulated agents (real keys and
envelopes, over HTTP) report a hostname that is a <script> element, software names with
quotes and a right-to-left override (U+202E), finding titles and messages that are
<img onerror> elements, asset fields that try to close an attribute, and USB devices with such names.
The hosts list, host detail (every disclosure opened), violations (every rule expanded, which
htmx fetches) and asset register must show those strings as text a person can read, while
no script of theirs ran (`window.__x` stays undefined), no dialog opened, and the console
reports no Content-Security-Policy violation (which an injected inline script or handler
would cause, as the policy refuses it). The override is shown as a visible "<U+202E>", and
the characters around it are laid out in the order the agent sent them, not reversed.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

from agent.protocol.payload import state_hash
from tests.browser.pages import Visitor, visitor
from tests.browser.world import Dashboard, HttpFleet
from tests.server.agents import SimulatedAgent, finding

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.browser]

COUNTY = "江苏省/南京市/玄武区"
OFFICE = f"{COUNTY}/区委办公室"
ADMIN = "xuanwu-admin"

HOSTNAME = "<script>window.__x=1</script>"
QUOTED = "Team\"Viewer' <b>远程协助</b>"
RTL = "report\u202efdp.exe"  # would show as "reportexe.pdf" to the eye
RTL_SHOWN = "report<U+202E>fdp.exe"  # what the pages show instead
MESSAGE = "<img src=x onerror=window.__x=2>"
TITLE = "<svg onload=window.__x=3>禁止远程控制</svg>"
PERSON = "\"'><img src=x onerror=window.__x=4>"
DEVICE = "<iframe src=javascript:window.__x=5>"
SHARED_IP = "10.32.1.66"


def hostile_findings() -> list[dict[str, Any]]:
    remote = finding("no-remote-control", "fail")
    remote.update(
        severity="critical",
        title={"zh": TITLE, "en": TITLE},
        message={"zh": f"发现 {MESSAGE}", "en": f"found {MESSAGE}"},
        remedy={"zh": f"卸载 {QUOTED}", "en": f"remove {QUOTED}"},
        evidence={"software": [{"name": QUOTED, "version": "15.2"}, {"name": RTL, "version": "1"}]},
    )
    stick = finding("no-unregistered-storage", "fail")
    stick.update(
        category="media",
        title={"zh": "未接入未登记的移动存储介质", "en": "No unregistered removable storage"},
        message={"zh": f"U盘 {DEVICE}", "en": f"USB stick {DEVICE}"},
        evidence={"devices": [{"vendor_id": "0781", "product": DEVICE, "serial": QUOTED}]},
    )
    return [remote, stick, finding("vrv-installed")]


def hostile_payload(agent: SimulatedAgent, hostname: str) -> dict[str, Any]:
    host = agent.host_facts(hostname=hostname, ip_addresses=[SHARED_IP])
    host["asset"] = {**host["asset"], "responsible_person": PERSON, "machine_number": QUOTED}
    findings = hostile_findings()
    payload = agent.full_payload(findings, host=host)
    inventory = payload["inventory"]
    inventory["software"] = [{"name": QUOTED, "version": "15.2"}, {"name": RTL, "version": "1"}]
    inventory["media"] = {
        "storage": [{"device": "/dev/sdb", "vendor": DEVICE, "model": QUOTED, "serial": RTL}],
        "history": [
            {
                "time": "2026-11-20T08:00:00Z",
                "vendor_id": "0781",
                "product_id": "5567",
                "serial": QUOTED,
                "product": DEVICE,
                "manufacturer": RTL,
                "usb_class": "mass_storage",
                "source": "journal",
            }
        ],
    }
    payload["state_hash"] = state_hash(host, findings, inventory)
    return payload


@pytest.fixture
def hostile(dashboard: Dashboard) -> list[SimulatedAgent]:
    """Two PCs on one IP address (so the asset register lists both) reporting hostile text."""
    dashboard.unit(OFFICE)
    dashboard.user(ADMIN, "admin", COUNTY)
    dashboard.start()
    fleet = HttpFleet(dashboard.url)
    agents = []
    try:
        for name in (HOSTNAME, f"{HOSTNAME}{RTL}"):
            agent = SimulatedAgent(hostname=name)
            fleet.enroll_raw(dashboard.token(OFFICE, 1), agent, agent.host_facts())
            fleet.send(agent, hostile_payload(agent, name))
            agents.append(agent)
    finally:
        fleet.close()
    return agents


def assert_text_not_markup(person: Visitor, *strings: str) -> None:
    text = person.text()
    for string in strings:
        assert string in text, f"{string!r} is not shown as text"
    assert person.page.evaluate("typeof window.__x") == "undefined", "an agent's script ran"
    person.assert_quiet()


def test_hostile_strings_from_agents_are_shown_as_text_and_never_run(
    chromium: Browser, dashboard: Dashboard, hostile: list[SimulatedAgent]
) -> None:
    with visitor(chromium, dashboard.url) as person:
        person.sign_in(ADMIN)

        person.goto("/hosts/")
        assert_text_not_markup(person, HOSTNAME, f"{HOSTNAME}{RTL_SHOWN}", QUOTED, PERSON)

        for agent in hostile:
            shown = agent.hostname.replace(RTL, RTL_SHOWN)
            person.goto(f"/hosts/{agent.host_id}/")
            assert shown in person.page.title()
            person.open_details()
            assert_text_not_markup(person, shown, TITLE, MESSAGE, QUOTED, RTL_SHOWN, PERSON, DEVICE)

        person.goto("/violations/")
        assert_text_not_markup(person, TITLE)
        person.open_details()  # each rule's hosts, fetched by htmx
        assert_text_not_markup(person, HOSTNAME, MESSAGE, DEVICE, QUOTED, PERSON)

        person.goto("/assets/")
        assert_text_not_markup(person, SHARED_IP, HOSTNAME, f"{HOSTNAME}{RTL_SHOWN}", QUOTED)


# Each character of an element's text with the left edge and the line (top) the browser
# laid it out at. A function, not an expression: the page's CSP forbids eval.
_LAYOUT = """(element) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const placed = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width > 0) placed.push([node.data[i], box.left, Math.round(box.top)]);
    }
  }
  return placed;
}"""


def test_a_right_to_left_override_in_a_hostname_does_not_reorder_the_page(
    chromium: Browser, dashboard: Dashboard, hostile: list[SimulatedAgent]
) -> None:
    """Was: "report\u202efdp.exe" was laid out as "reportexe.pdf", right to left after the
    override, on every page that showed the name."""
    overridden = next(agent for agent in hostile if RTL in agent.hostname)
    with visitor(chromium, dashboard.url) as person:
        person.sign_in(ADMIN)
        person.goto(f"/hosts/{overridden.host_id}/")
        crumb = person.page.locator(".breadcrumbs [aria-current=page]")

        placed = crumb.evaluate(_LAYOUT)

    lines: dict[int, list[float]] = {}
    for _character, left, top in placed:
        lines.setdefault(top, []).append(left)
    for lefts in lines.values():
        assert lefts == sorted(lefts), "characters laid out out of their order"
    assert "".join(character for character, _left, _top in placed).endswith(RTL_SHOWN)

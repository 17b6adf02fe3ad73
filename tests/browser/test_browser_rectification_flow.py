"""整改 from start to end, as a county admin does it in the browser: the overview's failing
number, the host, its failing finding, a notice issued, the real agent's next report passing
the rule (the notice re-checks itself), the notice closed (销号); then the same page read in
English and back in Chinese.

The failing host is a real `custos-agent` (its own config and state directory) whose config
first lacks `machine_number`, so the asset rule of its policy fails; adding the number to the
config and running `custos-agent send` is the fix. A simulated compliant PC in the same
office makes the compliance rate 50 %.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from agent.glossary import STATUSES
from tests.browser.pages import translated, visitor
from tests.browser.world import Dashboard, HttpFleet
from tests.dashboard.seed import Machine
from tests.e2e.helpers import E2E_POLICY, AgentProcess

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.browser]

COUNTY = "江苏省/南京市/玄武区"
OFFICE = f"{COUNTY}/区委办公室"
ADMIN = "xuanwu-admin"
RULE = "asset-number"  # E2E_POLICY: the machine number must be filled in


def configure(agent: AgentProcess, machine_number: str | None) -> None:
    """The agent's config, with or without the machine number the asset rule asks for."""
    number = f"  machine_number: {machine_number}\n" if machine_number else ""
    agent.config.write_text(
        f"state_dir: {agent.state}\n"
        f"policy: {agent.policy}\n"
        f"watch_roots: [{agent.watch_root}]\n"
        "asset:\n"
        f"{number}"
        "  responsible_person: 王建国\n"
        "  department: 区委办公室\n"
        "  classification: 内部\n"
        "  purpose: intranet\n",
        encoding="utf-8",
    )


def send(agent: AgentProcess) -> None:
    completed = agent.cli("send")
    assert completed.returncode == 0, completed.stderr
    assert "waiting 0" in completed.stdout, completed.stdout


@pytest.fixture
def office(dashboard: Dashboard, tmp_path: Path) -> AgentProcess:
    """The county with its admin, a compliant simulated PC, and a real agent whose first
    report fails the asset rule."""
    dashboard.unit(OFFICE)
    dashboard.user(ADMIN, "admin", COUNTY)
    dashboard.start()
    fleet = HttpFleet(dashboard.url)
    try:
        fleet.report(fleet.enroll(dashboard.token(OFFICE, 1), OFFICE, Machine(hostname="XW-PC-OK")))
    finally:
        fleet.close()
    policy = tmp_path / "policy.yaml"
    policy.write_text(E2E_POLICY, encoding="utf-8")
    agent = AgentProcess(tmp_path / "agents", "pc-real", policy)
    configure(agent, None)
    agent.enroll(dashboard.url, dashboard.token(OFFICE, 1))
    send(agent)
    return agent


def test_a_county_admin_issues_a_rectification_that_the_agents_next_report_rechecks_and_closes_it(
    chromium: Browser, dashboard: Dashboard, office: AgentProcess
) -> None:
    with visitor(chromium, dashboard.url) as person:
        page = person.page
        person.sign_in(ADMIN)
        assert person.language() == "zh-hans"

        # The overview of the admin's county: one of two hosts fails.
        assert "玄武区" in person.text("h1")
        rate = (
            page.get_by_role("list", name=person.t("Key figures"))
            .get_by_role("listitem")
            .filter(has_text=person.t("Compliance rate"))
        )
        expect(rate).to_contain_text("50.0%")
        failing = rate.locator("a[href*='compliance=noncompliant']")
        expect(failing).to_have_text("1")
        failing.click()

        # The hosts list that number counts: the real agent's PC alone.
        page.wait_for_load_state("networkidle")
        rows = page.locator("main table tbody tr")
        expect(rows).to_have_count(1)
        rows.first.get_by_role("link").first.click()

        # Its detail page shows the failing finding, titled as the policy says in Chinese.
        page.wait_for_load_state("networkidle")
        assert office.host_id in person.text()
        finding = page.locator("table.findings tbody tr").filter(has_text=RULE)
        expect(finding).to_contain_text("资产编号")
        expect(finding.locator(".badge").first).to_have_text(person.term(STATUSES, "fail"))
        finding.get_by_role("link", name=person.t("Issue rectification")).click()

        # The notice: person responsible, deadline, remark.
        page.wait_for_load_state("networkidle")
        deadline = dt.date.today() + dt.timedelta(days=7)
        page.get_by_label(person.t("Person responsible")).fill("王建国")
        page.get_by_label(person.t("Deadline")).fill(deadline.isoformat())
        page.get_by_label(person.t("Requirement and remarks")).fill("在客户端配置中填写机器编号。")
        page.get_by_role("button", name=person.t("Issue the notice")).click()
        page.wait_for_load_state("networkidle")
        notice_url = page.url
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_contain_text(person.t("open"))
        assert "王建国" in person.text()
        assert deadline.isoformat() in person.text()
        assert "在客户端配置中填写机器编号。" in person.text()

        # The PC's user fills in the machine number; the agent checks and reports.
        configure(office, "XW-BGS-2026-0001")
        send(office)

        page.goto(notice_url)
        expect(heading).to_contain_text(person.t("re-checked"))
        assert person.t("Re-check passed") in person.text()

        # 销号.
        page.get_by_role("button", name=person.t("Close the notice")).click()
        page.wait_for_load_state("networkidle")
        expect(heading).to_contain_text(person.t("closed"))
        assert person.t("The notice is closed.") in person.text()

        # The same page in English, and back: the words change, the page stays.
        nav_labels = ("Overview", "Hosts", "Violations", "Rectifications")
        person.switch_language("en")
        assert person.language() == "en"
        assert page.url == notice_url
        expect(heading).to_contain_text("closed")
        nav = page.get_by_role("navigation", name="Main")
        for label in nav_labels:
            expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
        assert "Person responsible" in person.text()
        assert "王建国" in person.text()

        person.switch_language("zh-hans")
        assert person.language() == "zh-hans"
        assert page.url == notice_url
        expect(heading).to_contain_text(translated("closed"))
        expect(heading).not_to_contain_text("closed")
        nav = page.get_by_role("navigation", name=translated("Main"))
        for label in nav_labels:
            expect(nav.get_by_role("link", name=translated(label), exact=True)).to_be_visible()
            expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
        assert translated("Person responsible") in person.text()
        assert "Person responsible" not in person.text()
        person.assert_quiet()

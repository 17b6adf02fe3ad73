"""Alerts to a unit's admins: new high/critical violations (from ingest), hosts gone silent
(from the sweep), overdue rectifications (from the periodic run); delivered by e-mail to a
local SMTP sink and by webhook to a local HTTP receiver, immediately or as a daily digest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from server.accounts.models import AuditEntry, Membership, Role, Unit
from server.alerts import delivery
from server.alerts.models import Alert, AlertDelivery, AlertLanguage, AlertSettings, Kind
from server.cli import main
from server.fleet.silence import sweep
from server.rectification import actions
from server.rectification.models import Rectification
from tests.dashboard.actions_receivers import Mailbox, Webhook, smtp_sink, webhook_receiver
from tests.dashboard.actions_world import enroll, send, signed_in, usb_finding
from tests.server.agents import SimulatedAgent

pytestmark = pytest.mark.server


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    with smtp_sink() as (box, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.DEFAULT_FROM_EMAIL = "custos@example.gov.cn"
        yield box


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with webhook_receiver() as receiver:
        yield receiver


def switch_on(unit: Unit, **fields: Any) -> AlertSettings:
    values: dict[str, Any] = {"email_enabled": True, "mode": "immediate"}
    values.update(fields)
    return AlertSettings.objects.create(unit=unit, **values)


def violating_pc(world: Any, severity: str = "critical") -> SimulatedAgent:
    agent = enroll(world.office)
    send(agent, [usb_finding("fail", severity=severity)])
    return agent


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


# --- the settings page ----------------------------------------------------------------------


def test_an_admin_saves_the_units_alert_settings_and_the_change_is_audited(
    world: Any,
) -> None:
    response = signed_in(world.admin).post(
        "/alerts/",
        {
            "unit": world.county.pk,
            "email_enabled": "on",
            "webhook_url": "https://im.example.gov.cn/hook/SECRET-TOKEN",
            "mode": "digest",
            "digest_hour": "9",
        },
    )

    assert response.status_code == 302
    row = AlertSettings.objects.get(unit=world.county)
    assert (row.email_enabled, row.mode, row.digest_hour, row.updated_by) == (
        True,
        "digest",
        9,
        world.admin,
    )
    entry = AuditEntry.objects.get(action="alerts.settings")
    assert entry.details["webhook_host"] == "im.example.gov.cn"
    assert "SECRET-TOKEN" not in json.dumps(entry.details)


def test_the_page_lists_the_recipients_and_warns_when_smtp_is_not_configured(
    world: Any, settings: Any
) -> None:
    settings.EMAIL_HOST = ""
    User.objects.filter(pk=world.admin.pk).update(email="")

    page = signed_in(world.admin).get("/alerts/", {"unit": world.county.pk}).content.decode()

    assert "CUSTOS_SMTP_HOST" in page
    assert "wang" in page and "al-warning" in page  # wang has no address now


def test_an_auditor_reads_the_settings_but_cannot_change_them(world: Any) -> None:
    auditor = signed_in(world.auditor)

    page = auditor.get("/alerts/", {"unit": world.county.pk})
    refused = auditor.post(
        "/alerts/",
        {"unit": world.county.pk, "email_enabled": "on", "mode": "immediate", "digest_hour": "8"},
    )

    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert refused.status_code == 403
    assert not AlertSettings.objects.exists()


def test_units_of_another_county_answer_404(world: Any) -> None:
    outsider = signed_in(world.other_admin)

    assert outsider.get("/alerts/", {"unit": world.county.pk}).status_code == 404
    refused = outsider.post(
        "/alerts/",
        {"unit": world.county.pk, "email_enabled": "on", "mode": "immediate", "digest_hour": "8"},
    )
    assert refused.status_code == 404
    assert not AlertSettings.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(world: Any) -> None:
    response = signed_in(None).get("/alerts/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_webhook_url_must_be_http(world: Any) -> None:
    response = signed_in(world.admin).post(
        "/alerts/",
        {
            "unit": world.county.pk,
            "webhook_url": "ftp://example.org/x",
            "mode": "immediate",
            "digest_hour": "8",
        },
    )

    assert response.status_code == 400
    assert not AlertSettings.objects.exists()


SECRET_HOOK = "https://im.example.gov.cn:8443/hook/T0123/SECRET-TOKEN?key=K-SECRET"  # noqa: S105
HOOK_ORIGIN = "https://im.example.gov.cn:8443"


def _settings_form(unit: Unit, **fields: str) -> dict[str, Any]:
    return {"unit": unit.pk, "mode": "immediate", "digest_hour": "8", **fields}


def second_admin(world: Any) -> User:
    """Another admin of 海淀区, beside wang."""
    user = User.objects.create_user("sun", "sun@example.gov.cn", "x" * 12)
    Membership.objects.create(user=user, unit=world.county, role=Role.ADMIN)
    return user


def test_only_the_admin_who_set_the_webhook_reads_its_secret_path(world: Any) -> None:
    """Was: auditors, the unit's other admins and admins above read the whole URL."""
    sun = second_admin(world)
    province_admin = User.objects.create_user("gao", "gao@example.gov.cn", "x" * 12)
    Membership.objects.create(user=province_admin, unit=world.province, role=Role.ADMIN)
    assert (
        signed_in(world.admin)
        .post("/alerts/", _settings_form(world.county, webhook_url=SECRET_HOOK))
        .status_code
        == 302
    )

    def page(user: User) -> str:
        return signed_in(user).get("/alerts/", {"unit": world.county.pk}).content.decode()

    assert "SECRET-TOKEN" in page(world.admin) and "K-SECRET" in page(world.admin)
    for reader in (world.auditor, sun, province_admin, world.superuser):
        content = page(reader)
        assert (
            "SECRET-TOKEN" not in content and "K-SECRET" not in content and "T0123" not in content
        )
        assert HOOK_ORIGIN in content, reader


def test_another_admin_keeps_replaces_or_removes_a_webhook_they_cannot_read(world: Any) -> None:
    sun = signed_in(second_admin(world))
    signed_in(world.admin).post("/alerts/", _settings_form(world.county, webhook_url=SECRET_HOOK))

    assert sun.post("/alerts/", _settings_form(world.county, email_enabled="on")).status_code == 302
    row = AlertSettings.objects.get(unit=world.county)
    assert (row.webhook_url, row.webhook_set_by, row.email_enabled) == (
        SECRET_HOOK,
        world.admin,
        True,
    )

    sun.post("/alerts/", _settings_form(world.county, webhook_url="https://hooks.example/new"))
    row.refresh_from_db()
    assert (row.webhook_url, row.webhook_set_by.username) == ("https://hooks.example/new", "sun")
    wang_page = signed_in(world.admin).get("/alerts/", {"unit": world.county.pk}).content.decode()
    assert "/new" not in wang_page and "https://hooks.example/…" in wang_page

    signed_in(world.admin).post("/alerts/", _settings_form(world.county, remove_webhook="on"))
    row.refresh_from_db()
    assert (row.webhook_url, row.webhook_set_by) == ("", None)


def test_an_admin_who_set_the_webhook_no_longer_reads_it_once_they_lose_the_role(
    world: Any,
) -> None:
    signed_in(world.admin).post("/alerts/", _settings_form(world.county, webhook_url=SECRET_HOOK))
    Membership.objects.filter(user=world.admin).update(role=Role.AUDITOR)

    page = signed_in(world.admin).get("/alerts/", {"unit": world.county.pk}).content.decode()

    assert "SECRET-TOKEN" not in page and HOOK_ORIGIN in page


def test_a_webhook_error_on_the_page_does_not_carry_the_url(world: Any) -> None:
    # A port nothing listens on: the connection is refused, on loopback.
    url = "http://127.0.0.1:9/hook/SECRET-TOKEN"
    switch_on(world.county, email_enabled=False, webhook_url=url, webhook_set_by=world.admin)
    violating_pc(world)

    delivery.run(timezone.now())

    row = AlertDelivery.objects.get()
    assert row.attempts == 1 and row.last_error
    assert "SECRET-TOKEN" not in row.last_error
    page = signed_in(world.auditor).get("/alerts/", {"unit": world.county.pk}).content.decode()
    assert "SECRET-TOKEN" not in page


# --- raising and delivering -----------------------------------------------------------------


def test_a_new_critical_violation_is_mailed_to_each_admin_in_their_language_and_posted_to_the_webhook(
    world: Any, mailbox: Mailbox, hook: Webhook
) -> None:
    switch_on(world.county, webhook_url=hook.url)
    english_admin = User.objects.create_user("chen", "chen@example.gov.cn", "x" * 12)
    Membership.objects.create(user=english_admin, unit=world.county, role=Role.ADMIN)
    AlertLanguage.objects.create(user=english_admin, language="en")
    agent = violating_pc(world)

    summary = delivery.run()

    assert (summary.sent, summary.failed) == (2, 0)
    alert = Alert.objects.get()
    assert (alert.kind, alert.host.host_id, alert.severity) == (  # type: ignore[union-attr]
        Kind.VIOLATION,
        agent.host_id,
        "critical",
    )
    chinese = mailbox.to("wang@example.gov.cn")[0]
    english = mailbox.to("chen@example.gov.cn")[0]
    assert "告警" in chinese["Subject"] and "北京市/海淀区" in chinese["Subject"]
    assert "未使用未登记的U盘" in chinese.get_content()
    assert "new alert" in english["Subject"]
    assert "No unregistered USB storage" in english.get_content()
    assert english["From"] == "custos@example.gov.cn"
    assert mailbox.to("li@example.gov.cn") == []  # auditors are not recipients
    assert mailbox.to("zhao@example.gov.cn") == []
    (document,) = hook.documents
    assert document["unit"] == "北京市/海淀区" and document["digest"] is False
    (item,) = document["alerts"]
    assert (item["kind"], item["host_id"], item["rule"]) == (
        "violation",
        agent.host_id,
        "no-unregistered-storage",
    )
    assert "未使用未登记的U盘" in item["text"]["zh"]
    assert "No unregistered USB storage" in item["text"]["en"]

    assert delivery.run().sent == 0  # nothing twice
    assert len(mailbox.messages) == 2 and len(hook.documents) == 1


def test_only_new_high_or_critical_failures_raise_alerts(world: Any) -> None:
    switch_on(world.county)
    agent = violating_pc(world, severity="medium")
    send(agent, [usb_finding("fail", severity="medium")])
    assert not Alert.objects.exists()

    send(agent, [usb_finding("pass", severity="high")])
    send(agent, [usb_finding("fail", severity="high")])
    send(agent, [usb_finding("fail", severity="high")])  # still failing: nothing new

    assert Alert.objects.count() == 1


def test_every_unit_on_the_way_up_with_alerts_on_gets_its_own_delivery(world: Any) -> None:
    switch_on(world.county)
    switch_on(world.office, email_enabled=False, webhook_url="http://127.0.0.1:9/hook")
    switch_on(world.other_county)

    violating_pc(world)

    targets = sorted(
        (d.target.unit.path, d.channel)
        for d in AlertDelivery.objects.select_related("target__unit")
    )
    assert targets == [("北京市/海淀区", "email"), ("北京市/海淀区/网信办", "webhook")]


def test_the_digest_sends_one_message_per_unit_and_day_at_the_chosen_hour(
    world: Any, mailbox: Mailbox
) -> None:
    switch_on(world.county, mode="digest", digest_hour=8)
    first = violating_pc(world)
    second = enroll(world.office, "pc-0418")
    send(second, [usb_finding("fail")])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    early = delivery.run(local(tomorrow, 7, 0))
    on_time = delivery.run(local(tomorrow, 8, 5))

    assert (early.sent, early.waiting) == (0, 2)
    assert on_time.sent == 2
    (digest,) = mailbox.messages
    assert "pc-0417" in digest.get_content() and "pc-0418" in digest.get_content()
    assert tomorrow.isoformat() in digest["Subject"]

    send(first, [usb_finding("pass")])
    send(first, [usb_finding("fail")])  # a new violation after today's digest
    assert delivery.run(local(tomorrow, 12, 0)).waiting == 1
    assert len(mailbox.messages) == 1
    assert delivery.run(local(tomorrow + dt.timedelta(days=1), 8, 1)).sent == 1
    assert len(mailbox.messages) == 2


def test_a_failing_webhook_is_retried_later_with_its_attempts_and_error_recorded(
    world: Any, hook: Webhook
) -> None:
    switch_on(world.county, email_enabled=False, webhook_url=hook.url)
    violating_pc(world)
    now = timezone.now()
    hook.status = 500

    failed = delivery.run(now)

    row = AlertDelivery.objects.get()
    assert (failed.sent, row.status, row.attempts) == (0, "pending", 1)
    assert "HTTP 500" in row.last_error
    assert row.next_attempt_at > now
    assert delivery.run(now + dt.timedelta(minutes=1)).sent == 0  # not due yet
    hook.status = 204
    assert delivery.run(now + dt.timedelta(minutes=6)).sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert len(hook.documents) == 2


def test_without_an_smtp_server_the_delivery_gives_up_after_its_attempts(
    world: Any, settings: Any
) -> None:
    settings.EMAIL_HOST = ""
    switch_on(world.county)
    violating_pc(world)
    moment = timezone.now()

    for _ in range(delivery.MAX_ATTEMPTS):
        moment += dt.timedelta(hours=7)
        delivery.run(moment)

    row = AlertDelivery.objects.get()
    assert (row.status, row.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert "CUSTOS_SMTP_HOST" in row.last_error


def test_a_host_gone_silent_is_announced_once_after_the_sweep(world: Any, mailbox: Mailbox) -> None:
    switch_on(world.county)
    agent = enroll(world.office, "pc-quiet")
    send(agent, [usb_finding("pass")])
    later = timezone.now() + dt.timedelta(hours=4)

    assert sweep(later, 3) == 1
    delivery.run(later)
    sweep(later + dt.timedelta(minutes=1), 3)
    delivery.run(later + dt.timedelta(minutes=1))

    alert = Alert.objects.get()
    assert alert.kind == Kind.SILENT and alert.host.host_id == agent.host_id  # type: ignore[union-attr]
    (message,) = mailbox.messages
    assert "pc-quiet" in message.get_content()


def test_an_overdue_rectification_is_announced_once_with_a_link_to_the_notice(
    world: Any, mailbox: Mailbox, settings: Any
) -> None:
    settings.CUSTOS_PUBLIC_URL = "http://10.1.2.3:8080"
    switch_on(world.county)
    agent = violating_pc(world)
    Alert.objects.all().delete()
    AlertDelivery.objects.all().delete()
    from server.fleet.models import Host

    notice = actions.issue(
        Host.objects.get(host_id=agent.host_id),
        "no-unregistered-storage",
        "张三",
        timezone.localdate() + dt.timedelta(days=1),
        "",
        world.admin,
        "user:wang",
        timezone.now(),
    )
    Rectification.objects.filter(pk=notice.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=1)
    )

    first = delivery.run()
    second = delivery.run()

    assert (first.raised_overdue, second.raised_overdue) == (1, 0)
    (message,) = mailbox.messages
    assert f"#{notice.pk}" in message.get_content() and "张三" in message.get_content()
    assert f"http://10.1.2.3:8080/rectifications/{notice.pk}/" in message.get_content()


def test_the_command_line_runs_the_alerts_once(
    world: Any, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    switch_on(world.county)
    violating_pc(world)

    status = main(["alerts", "send"])

    assert status == 0
    assert "1 delivered" in capsys.readouterr().out
    assert len(mailbox.messages) == 1


def test_recent_alerts_on_the_page_stay_within_the_users_subtree(world: Any) -> None:
    switch_on(world.county)
    violating_pc(world)

    mine = signed_in(world.auditor).get("/alerts/", {"unit": world.county.pk}).content.decode()
    theirs = signed_in(world.other_admin).get("/alerts/").content.decode()

    assert "pc-0417" in mine
    assert "pc-0417" not in theirs


def test_an_admin_chooses_the_language_of_their_alert_emails(world: Any) -> None:
    response = signed_in(world.admin).post("/alerts/language/", {"language": "en"})

    assert response.status_code == 302
    assert AlertLanguage.objects.get(user=world.admin).language == "en"


def test_overlapping_runs_send_each_delivery_once(world: Any, hook: Webhook) -> None:
    """Two runs that both saw the same deliveries due (two servers' sweepers on one
    PostgreSQL, or cron beside the server): only the first to claim them sends."""
    switch_on(world.county, email_enabled=False, webhook_url=hook.url)
    violating_pc(world)
    now = timezone.now()
    seen_by_first = list(AlertDelivery.objects.filter(status="pending"))
    seen_by_second = list(AlertDelivery.objects.filter(status="pending"))

    assert [d.pk for d in delivery.claim(seen_by_first, now)] == [seen_by_first[0].pk]
    assert delivery.claim(seen_by_second, now) == []
    assert delivery.run(now).sent == 0  # claimed, so no longer due for anyone else
    assert hook.documents == []


def test_a_claim_left_by_a_run_that_died_is_taken_over_after_the_lease(
    world: Any, hook: Webhook
) -> None:
    switch_on(world.county, email_enabled=False, webhook_url=hook.url)
    violating_pc(world)
    now = timezone.now()
    assert delivery.claim(list(AlertDelivery.objects.all()), now)  # ... and then it died

    assert delivery.run(now + delivery.CLAIM_LEASE - dt.timedelta(seconds=1)).sent == 0
    assert delivery.run(now + delivery.CLAIM_LEASE).sent == 1
    assert len(hook.documents) == 1
    assert AlertDelivery.objects.get().status == "sent"


def test_with_a_public_url_each_alert_links_to_its_host_or_notice(
    world: Any, mailbox: Mailbox, hook: Webhook, settings: Any
) -> None:
    settings.CUSTOS_PUBLIC_URL = "https://custos.unit.example"
    switch_on(world.county, webhook_url=hook.url)
    agent = violating_pc(world)

    assert delivery.run().sent == 2

    host_page = f"https://custos.unit.example/hosts/{agent.host_id}/"
    (message,) = mailbox.messages
    assert host_page in message.get_content()
    assert [item["url"] for item in hook.documents[0]["alerts"]] == [host_page]


def test_without_a_public_url_alerts_carry_no_links(world: Any, hook: Webhook) -> None:
    switch_on(world.county, email_enabled=False, webhook_url=hook.url)
    violating_pc(world)
    assert delivery.run().sent == 1
    assert hook.documents[0]["alerts"][0]["url"] is None

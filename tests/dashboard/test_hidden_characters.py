"""Invisible and direction-changing characters that agents write are shown, not obeyed.

A right-to-left override (U+202E) in a hostname makes "pc\u202eexe.fdp" read as "pcpdf.exe";
other bidi controls, zero-width characters and the like hide or reorder text the same way.
Anyone with a PC can make its agent report such text, so every page shows each of them as a
visible, distinctly styled "<U+202E>" (the `reveal` filter, server.dashboard.hidden_text)
and keeps none of them in its HTML. Exports keep the raw value (the snapshots' CSV, the
rosters): they are data, not a page.

Here one PC reports such characters in every string it sends (host facts, asset fields,
findings, evidence, removable media, network), gets a rectification notice, a spot check and
an alert, and every page that shows any of it is read as the county's admin and as the
superuser.
"""

from __future__ import annotations

import datetime as dt
import sys
import unicodedata
from html.parser import HTMLParser
from typing import Any

import pytest
from django.template import Context, Template
from django.utils import timezone

from agent.protocol.payload import state_hash
from server.alerts.models import AlertSettings
from server.dashboard.hidden_text import hidden_characters, reveal
from server.fleet.models import Host
from server.rectification import actions
from server.rectification.spot_checks import request_spot_check
from tests.dashboard.actions_world import enroll, signed_in
from tests.server.agents import SimulatedAgent, finding

pytestmark = pytest.mark.server

# One of each kind: bidi embedding, override, isolate, mark; Arabic letter mark; zero width
# space and joiner; byte order mark; line separator; a tag character; a C1 control.
MARKS = "\u202b\u202e\u2067\u200f\u061c\u200b\u200d\ufeff\u2028\U000e0041\u0085"
RULE = "no-remote\u202econtrol"
UNNOTICED = "no-usb\u2067storage"  # failing, no notice yet: its issue form is shown


def hostile(text: str) -> str:
    return f"{text}{MARKS}end"


def hostile_payload(agent: SimulatedAgent) -> dict[str, Any]:
    host = agent.host_facts(
        hostname=hostile("pc"),
        fqdn=hostile("pc.example"),
        os_name=hostile("UOS"),
        os_version=hostile("20"),
        platform=hostile("linux"),
        machine_id=hostile("m"),
        ip_addresses=[hostile("10.1.1.1")],
        mac_addresses=[hostile("52:54")],
        disk_serials=[hostile("S4EV")],
    )
    host["asset"] = {
        "machine_number": hostile("BJ-1"),
        "responsible_person": hostile("张三"),
        "department": hostile("办公室"),
        "classification": hostile("内部"),
        "purpose": hostile("intranet"),
    }
    remote = finding(RULE, "fail")
    remote.update(
        severity="critical",
        title={"zh": hostile("禁止远程控制"), "en": hostile("No remote control")},
        message={"zh": hostile("发现"), "en": hostile("found")},
        remedy={"zh": hostile("卸载"), "en": hostile("remove")},
        evidence={"software": [{"name": hostile("TeamViewer"), "version": hostile("15")}]},
    )
    usb = finding(UNNOTICED, "fail")
    usb.update(remedy={"zh": hostile("拔出"), "en": hostile("unplug")})
    findings = [remote, usb, finding("vrv-installed")]
    device = {"vendor_id": hostile("0781"), "product_id": hostile("5567")}
    inventory = {
        "software": [{"name": hostile("TeamViewer"), "version": "15"}],
        "media": {
            "storage": [
                {
                    **device,
                    "device": hostile("/dev/sdb"),
                    "vendor": hostile("SanDisk"),
                    "model": hostile("Cruzer"),
                    "serial": hostile("AA01"),
                    "bus": hostile("usb"),
                    "mounts": [hostile("/media/u")],
                }
            ],
            "usb_devices": [
                {
                    **device,
                    "manufacturer": hostile("Huawei"),
                    "product": hostile("phone"),
                    "serial": hostile("X1"),
                    "usb_class": hostile("mtp"),
                }
            ],
            "history": [
                {
                    **device,
                    "time": hostile("2026-11-20"),
                    "last_seen": hostile("2026-11-21"),
                    "serial": hostile("AA01"),
                    "product": hostile("Cruzer"),
                    "manufacturer": hostile("SanDisk"),
                    "usb_class": hostile("mass_storage"),
                    "source": hostile("journal"),
                }
            ],
            "history_source": hostile("journal"),
            "history_since": hostile("2026-11-01"),
            "history_error": hostile("partly unreadable"),
        },
        "network": {
            "interfaces": [
                {
                    "name": hostile("eth0"),
                    "kind": hostile("wired"),
                    "is_up": True,
                    "mac": hostile("52:54"),
                    "addresses": [{"address": hostile("10.1.1.1"), "prefix_length": 24}],
                    "driver": hostile("e1000"),
                    "description": hostile("Intel"),
                }
            ],
            "routes": [
                {
                    "destination": hostile("0.0.0.0/0"),
                    "gateway": hostile("10.1.1.254"),
                    "interface": hostile("eth0"),
                    "metric": 100,
                }
            ],
            "dns_servers": [hostile("10.1.1.2")],
            "connections": [
                {
                    "process_name": hostile("chrome"),
                    "pid": 42,
                    "protocol": hostile("tcp"),
                    "local_address": hostile("10.1.1.1"),
                    "local_port": 50000,
                    "remote_address": hostile("203.0.113.9"),
                    "remote_port": 443,
                }
            ],
        },
    }
    payload = agent.full_payload(findings, host=host)
    payload["policy"] = {**payload["policy"], "id": hostile("office"), "version": hostile("1")}
    payload["inventory"] = inventory
    payload["state_hash"] = state_hash(host, findings, inventory)
    return payload


def send_payload(agent: SimulatedAgent, payload: dict[str, Any]) -> None:
    from django.test import Client

    body = agent.envelope(payload)
    response = Client().post("/api/v1/reports", data=body, content_type="application/json")
    assert response.status_code == 200, response.content


@pytest.fixture
def hostile_host(world: Any) -> Host:
    AlertSettings.objects.create(unit=world.county, email_enabled=True, mode="immediate")
    agent = enroll(world.office, hostile("pc"))
    send_payload(agent, hostile_payload(agent))
    twin = enroll(world.school, hostile("pc"))  # same addresses: the asset register lists both
    send_payload(twin, hostile_payload(twin))
    host = Host.objects.get(host_id=agent.host_id)
    now = timezone.now()
    actions.issue(
        host,
        RULE,
        hostile("李四"),
        timezone.localdate() + dt.timedelta(days=7),
        hostile("卸载"),
        world.admin,
        "user:wang",
        now,
    )
    request_spot_check(
        world.office, host, Host.objects.filter(pk=host.pk), 4, world.admin, "user:wang", now
    )
    return host


def pages(world: Any, host: Host) -> list[str]:
    from server.rectification.models import Rectification, SpotCheck

    notice = Rectification.objects.get()
    spot = SpotCheck.objects.get()
    return [
        "/",
        f"/units/{world.office.pk}/",
        "/hosts/",
        f"/hosts/?q={host.machine_number[:4]}",
        f"/hosts/{host.host_id}/",
        "/violations/",
        f"/violations/?rule={RULE}",
        "/assets/",
        "/rectifications/?status=all",
        f"/rectifications/{notice.pk}/",
        f"/rectifications/{notice.pk}/print/",
        f"/rectifications/new/?host={host.host_id}&rule={RULE}",
        f"/rectifications/new/?host={host.host_id}&rule={UNNOTICED}",
        "/spot-checks/",
        f"/spot-checks/{spot.pk}/",
        f"/alerts/?unit={world.county.pk}",
        "/audit/",
        "/policies/",
        "/tokens/",
        "/snapshots/",
    ]


class ShownText(HTMLParser):
    """What a page shows: its text and its attributes, except the values of options and
    hidden fields, which go back to the server as they are and are never displayed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        hidden_input = tag == "input" and ("type", "hidden") in attrs
        for name, value in attrs:
            if value and not (name == "value" and (tag == "option" or hidden_input)):
                self.texts.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


@pytest.mark.parametrize("persona", ["admin", "superuser"])
def test_no_page_keeps_a_hidden_character_an_agent_wrote(
    world: Any, hostile_host: Host, persona: str
) -> None:
    """Was: every one of them reached the page as it was."""
    browser = signed_in(getattr(world, persona))
    for path in pages(world, hostile_host):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}) if "rule=" in path else ({},):
            response = browser.get(path, **headers)
            assert response.status_code == 200, path
            shown = ShownText()
            shown.feed(response.content.decode())
            kept = [text for text in shown.texts if any(mark in text for mark in MARKS)]
            assert kept == [], f"{path} shows {kept!r}"


def test_the_host_page_shows_each_hidden_character_as_its_code_point(
    world: Any, hostile_host: Host
) -> None:
    content = signed_in(world.admin).get(f"/hosts/{hostile_host.host_id}/").content.decode()

    for code in ("202E", "2067", "200F", "061C", "200B", "FEFF", "2028", "E0041", "0085"):
        assert f'<span class="hidden-char">&lt;U+{code}&gt;</span>' in content, code
    title = content.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "pc&lt;U+202B&gt;&lt;U+202E&gt;" in title  # plain text there: no markup in a title


def test_every_format_control_and_separator_character_is_revealed() -> None:
    """The filter's character list, checked against Python's Unicode database."""
    expected = {
        chr(point)
        for point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(point)) in ("Cf", "Zl", "Zp")
        or (unicodedata.category(chr(point)) == "Cc" and chr(point) not in "\t\n\r")
    }
    assert expected - hidden_characters() == set()


def test_the_filter_escapes_the_rest_and_keeps_ordinary_text_alone() -> None:
    assert reveal("网信办 pc-01 ﷺ עברית") == "网信办 pc-01 ﷺ עברית"
    shown = Template("{% load dashboard %}{{ value|reveal }}").render(
        Context({"value": "<b>\u202e</b>"})
    )
    assert shown == '&lt;b&gt;<span class="hidden-char">&lt;U+202E&gt;</span>&lt;/b&gt;'
    joined = Template('{% load dashboard %}{{ values|join:", "|reveal }}').render(
        Context({"values": ["a&b", "\u200b"]})
    )
    assert joined == 'a&amp;b, <span class="hidden-char">&lt;U+200B&gt;</span>'
    as_text = Template('{% load dashboard %}<p title="{{ value|reveal:"text" }}">').render(
        Context({"value": '"\u202e'})
    )
    assert as_text == '<p title="&quot;&lt;U+202E&gt;">'

"""Units, people, and machines that report through the real agent code and the real API.

A `Machine` describes an office PC in a few switches (VRV installed and running, a stray USB
stick, a Wi-Fi card, ...). `report_payload` turns it into the agent's own facts
(`agent.facts`), evaluates them with the bundled intranet office policy (`agent.evaluation`)
and builds the report payload with `agent.reporting.build_report`: exactly what a real agent
would send. `Fleet.report` signs it with the machine's key and posts it to /api/v1/reports,
so every row the dashboard reads was written by ingest.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from agent.errors import Cause
from agent.evaluation import CheckResult, evaluate
from agent.facts import (
    Address,
    AssetFields,
    HostFacts,
    Interface,
    InterfaceKind,
    Inventory,
    MediaEvent,
    MediaFacts,
    Neighbour,
    NeighbourFacts,
    NetworkFacts,
    ProbeOutcome,
    ProbeResult,
    Process,
    Route,
    Service,
    Software,
    StorageDevice,
    UsbClass,
)
from agent.policy.loader import load_policy
from agent.policy.model import Policy
from agent.reporting import build_report
from agent.state import Delivery
from server.accounts.models import Membership, Role, Unit
from server.accounts.units import add_unit_path
from server.fleet.models import Host
from server.fleet.tokens import create_token
from tests.server.agents import SimulatedAgent, utc_now

ROOT = Path(__file__).resolve().parents[2]
POLICY_PATH = ROOT / "policies" / "intranet-office.yaml"
PASSWORD = "a long enough test password 42"  # noqa: S105  (test accounts only)
_policy: Policy | None = None


def office_policy() -> Policy:
    global _policy
    if _policy is None:
        _policy = load_policy(POLICY_PATH)
    return _policy


# --- people and units ----------------------------------------------------------------------


def unit(path: str) -> Unit:
    made, _ = add_unit_path(path, "cli:test")
    return made


def person(name: str, where: Unit | None = None, role: str = Role.ADMIN) -> User:
    """A superuser without `where`, else a user with `role` on `where`."""
    if where is None:
        return User.objects.create_superuser(name, f"{name}@example.gov.cn", PASSWORD)
    user = User.objects.create_user(name, f"{name}@example.gov.cn", PASSWORD)
    Membership.objects.create(user=user, unit=where, role=role)
    return user


def client_for(user: User | None, language: str = "en") -> Client:
    """A browser signed in as `user` (anonymous for None) that asks for `language`."""
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        browser.force_login(user)
    return browser


# --- machines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    """An office PC's state, in the terms the intranet office policy checks."""

    hostname: str = "pc-0417"
    ip: str = "10.11.0.17"
    mac: str = "52:54:00:12:34:56"
    gateway: str = "10.11.0.1"
    dns: str = "10.11.0.2"
    machine_number: str = "BJ-2026-0417"
    responsible_person: str = "张三"
    department: str = "办公室"
    classification: str = "内部"
    purpose: str = "intranet"
    vrv_installed: bool = True
    vrv_running: bool = True
    tianqing_running: bool = True
    zhongfu_installed: bool = True
    remote_control: str = ""  # e.g. "TeamViewer": installed and running
    unregistered_stick: bool = False  # attached now, and in the history
    wifi_card: bool = False
    internet_reachable: bool = False
    # LAN neighbours the agent reports, as (IP, MAC); None: an agent without the collector
    neighbours: tuple[tuple[str, str], ...] | None = None
    # A source the agent cannot read (a user who broke it, a hardened /proc): the rules that
    # need it could not be checked.
    process_list_readable: bool = True
    software_list_readable: bool = True

    def asset(self) -> AssetFields:
        return AssetFields(
            self.machine_number,
            self.responsible_person,
            self.department,
            self.classification,
            self.purpose,
        )


def _software(machine: Machine) -> tuple[Software, ...]:
    packages = [Software("WPS Office", "12.1", "Kingsoft", source="dpkg")]
    if machine.vrv_installed:
        packages.append(Software("VRV EDP Agent", "5.0.1", "北信源", source="dpkg"))
    packages.append(Software("TianQing EntClient", "10.3", "奇安信", source="dpkg"))
    if machine.zhongfu_installed:
        packages.append(Software("中孚保密检查", "3.2", "中孚", source="dpkg"))
    if machine.remote_control:
        packages.append(Software(machine.remote_control, "15.2", "", source="dpkg"))
    return tuple(packages)


def _processes(machine: Machine) -> tuple[Process, ...]:
    running = [Process(1, "systemd", "/usr/lib/systemd/systemd", "root")]
    if machine.vrv_installed and machine.vrv_running:
        running.append(Process(812, "vrvedp_m", "/opt/vrv/vrvedp_m", "root"))
    if machine.tianqing_running:
        running.append(Process(913, "EntClient", "/opt/qianxin/EntClient", "root"))
    if machine.remote_control:
        running.append(Process(1204, machine.remote_control, "", "zhangsan"))
    return tuple(running)


def _media(machine: Machine, now: dt.datetime) -> MediaFacts:
    """Times are whole days before `now`'s day, so an unchanged machine reports the same
    state (and so heartbeats) all day long."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    storage: tuple[StorageDevice, ...] = ()
    history: tuple[MediaEvent, ...] = ()
    if machine.unregistered_stick:
        storage = (
            StorageDevice(
                "/dev/sdb",
                "058f",
                "6387",
                "AA00000000012",
                "Generic",
                "Flash Disk",
                16_000_000_000,
                True,
                "usb",
                mounts=("/media/zhangsan/U盘",),
            ),
        )
        history = (
            MediaEvent(
                day - dt.timedelta(days=2, hours=-9),
                "058f",
                "6387",
                "AA00000000012",
                "Flash Disk",
                "Generic",
                UsbClass.MASS_STORAGE,
                "journal",
                last_seen=day - dt.timedelta(days=1, hours=-10),
            ),
        )
    return MediaFacts(storage, (), history, "journal", day - dt.timedelta(days=30))


def _network(machine: Machine) -> NetworkFacts:
    interfaces = [
        Interface(
            "eth0", InterfaceKind.WIRED, True, machine.mac, (Address("ipv4", machine.ip, 24),)
        ),
    ]
    routes = [Route("0.0.0.0/0", machine.gateway, "eth0", 100, "ipv4")]
    if machine.wifi_card:
        interfaces.append(
            Interface("wlan0", InterfaceKind.WIRELESS, False, "a4:5e:60:11:22:33", ())
        )
    return NetworkFacts(tuple(interfaces), tuple(routes), (machine.dns,), ())


def _neighbours(machine: Machine) -> NeighbourFacts | None:
    if machine.neighbours is None:
        return None
    entries = tuple(
        Neighbour("ipv6" if ":" in ip else "ipv4", ip, mac, "eth0", "reachable")
        for ip, mac in machine.neighbours
    )
    return NeighbourFacts(entries, ("10.0.0.0/8",))


def _probes(machine: Machine) -> dict[str, tuple[ProbeResult, ...]]:
    outcome = ProbeOutcome.REACHED if machine.internet_reachable else ProbeOutcome.UNREACHABLE
    detail = "HTTP 200" if machine.internet_reachable else "timed out"
    results = (
        ProbeResult("public-https", "https", "https://www.baidu.com/", outcome, 42.0, detail),
        ProbeResult("public-dns-port", "tcp", "114.114.114.114:53", outcome, 40.0, detail),
    )
    return {"no-internet-reachable": results}


def check_result(machine: Machine, machine_id: str, now: dt.datetime) -> CheckResult:
    """What `custos-agent` finds on this machine: its facts evaluated against the policy."""
    host = HostFacts(
        hostname=machine.hostname,
        fqdn=f"{machine.hostname}.bj.example.gov.cn",
        os_name="UOS",
        os_version="20",
        kernel="5.10.0",
        platform="linux",
        machine_id=machine_id,
        mac_addresses=(machine.mac,),
        ip_addresses=(machine.ip,),
        disk_serials=("S4EVNF0M" + machine_id[:6].upper(),),
        users=("zhangsan",),
        boot_time=now - dt.timedelta(hours=3),
        agent_version="0.1.0",
        asset=machine.asset(),
    )
    services = (
        Service(
            "vrvedp", "VRV EDP", "running" if machine.vrv_running else "stopped", "auto", "systemd"
        ),
    )
    errors: dict[str, str] = {}
    causes: dict[str, Cause] = {}
    if not machine.process_list_readable:
        errors["processes"] = "the process list is not readable: psutil.AccessDenied"
        causes["processes"] = Cause.PERMISSION_DENIED
    if not machine.software_list_readable:
        errors["software"] = "cannot read /var/lib/dpkg/status: Permission denied"
        causes["software"] = Cause.PERMISSION_DENIED
    inventory = Inventory(
        host=host,
        software=_software(machine) if machine.software_list_readable else None,
        processes=_processes(machine) if machine.process_list_readable else None,
        services=services,
        media=_media(machine, now),
        network=_network(machine),
        collected_at=now,
        agent_version="0.1.0",
        neighbours=_neighbours(machine),
        errors=errors,
        causes=causes,
    )
    policy = office_policy()
    findings = evaluate(policy, inventory, "linux", now, _probes(machine))
    return CheckResult(policy=policy, inventory=inventory, findings=findings, checked_at=now)


def report_payload(
    machine: Machine, machine_id: str, now: dt.datetime, delivery: Delivery
) -> dict[str, Any]:
    return build_report(
        check_result(machine, machine_id, now), "schedule", delivery, now=now
    ).payload


# --- a fleet of them -----------------------------------------------------------------------


@dataclass
class Enrolled:
    """A machine enrolled through the API: its simulated agent and what the server knows."""

    machine: Machine
    agent: SimulatedAgent
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def host(self) -> Host:
        return Host.objects.get(host_id=self.agent.host_id)


class Fleet:
    """Enrolls machines into units and makes them report, all through /api/v1/."""

    def __init__(self) -> None:
        self.api = Client()

    def enroll(self, where: Unit, machine: Machine | None = None) -> Enrolled:
        machine = machine or Machine()
        _, token = create_token(where, uses=1, expires_days=1, actor="cli:test")
        agent = SimulatedAgent(hostname=machine.hostname)
        request = agent.enrollment_request(token)
        request["host"] = json.loads(json.dumps(self._host_json(machine, agent.machine_id)))
        answer = self.api.post(
            "/api/v1/enroll", data=json.dumps(request), content_type="application/json"
        )
        assert answer.status_code == 201, answer.content
        agent.enrolled(answer.json())
        return Enrolled(machine, agent)

    @staticmethod
    def _host_json(machine: Machine, machine_id: str) -> dict[str, Any]:
        payload = report_payload(machine, machine_id, utc_now(), Delivery())
        return dict(payload["host"])

    def report(
        self, pc: Enrolled, machine: Machine | None = None, *, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """One scheduled check and report (full or heartbeat, as the agent would decide)."""
        if machine is not None:
            pc.machine = machine
        now = at or utc_now()
        payload = report_payload(pc.machine, pc.agent.machine_id, now, pc.delivery)
        answer = self.api.post(
            "/api/v1/reports",
            data=pc.agent.envelope(payload, sent_at=now),
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
        ack = answer.json()
        pc.delivery = replace(pc.delivery, last_ack_seq=ack["accepted"])
        if payload["kind"] == "full" and not ack["need_full"]:
            pc.delivery = replace(
                pc.delivery,
                last_full_state_hash=payload["state_hash"],
                last_full_at=payload["created_at"],
            )
        if ack["need_full"]:
            pc.delivery = replace(pc.delivery, last_full_state_hash=None)
        return ack

    def machines(self, where: Unit, *machines: Machine) -> list[Enrolled]:
        """Enroll each machine into `where` and have it report once."""
        enrolled = [self.enroll(where, machine) for machine in machines]
        for pc in enrolled:
            self.report(pc)
        return enrolled


# --- reading pages -------------------------------------------------------------------------


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.scripts: list[dict[str, str | None]] = []
        self.styled: list[str] = []  # tags with a style attribute
        self.text: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values:
            self.styled.append(tag)
        if tag == "script":
            self.scripts.append(values)
            self._skip += 1
        if tag == "a" and values.get("href") is not None:
            self._href, self._link_text = values["href"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._skip -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._link_text).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data)


def parse(content: bytes) -> _PageParser:
    parser = _PageParser()
    parser.feed(content.decode("utf-8"))
    return parser


def page_text(content: bytes) -> str:
    """The visible text of a page, whitespace collapsed."""
    return " ".join(" ".join(parse(content).text).split())


def links_to(content: bytes, path: str) -> list[tuple[str, str]]:
    """(href, text) of the page's links whose path is `path` (query strings kept)."""
    return [(href, text) for href, text in parse(content).links if href.split("?")[0] == path]

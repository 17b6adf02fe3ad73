"""A real `custos-server run` on loopback for the browser tests, and the people and machines
that use it.

- `Dashboard`: the server process (tests.e2e.helpers.ServerProcess: its own data directory
  and SQLite database, or a PostgreSQL database of its own when the suite runs with
  CUSTOS_DATABASE_URL; a free loopback port) with units, users (`custos-server user add`,
  password on stdin) and enrollment tokens made through its command line.
- `HttpFleet`: machines described by tests.dashboard.seed's `Machine`, evaluated by the
  agent's own code and reported by `SimulatedAgent` (real Ed25519 keys and envelopes) over
  HTTP to /api/v1/ of that server; also any raw payload, for hostile data.
- `SignedIn`: an HTTP session of a dashboard user that acts through the real forms (login,
  CSRF, POST), for seeding rectifications the way an admin issues them.
- `seed_world`: the realistic world the layout checks and the screenshots use.

Django is never used in the test process against the server's database: what the server
stores comes from its API and its views; the few things only time can do (reports that
arrived weeks ago, hosts that went quiet) are done by `Dashboard.time_travel`, a script run
in the server's own environment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from agent.state import Delivery
from tests.dashboard.seed import Machine, report_payload
from tests.e2e.helpers import ServerProcess, free_port
from tests.server.agents import SimulatedAgent, utc_now
from tests.server.processes import ROOT, server_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser tests: a long password 2026"  # noqa: S105  (throw-away test server)
POLICY_FILE = ROOT / "policies" / "intranet-office.yaml"
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- the server and its people ---------------------------------------------------------------


@contextmanager
def fresh_database(name: str) -> Iterator[str | None]:
    """None (the server uses SQLite in its data directory), or, when the suite runs with
    CUSTOS_DATABASE_URL, the URL of a new PostgreSQL database of the server's own, dropped
    afterwards (the URL's own database and pytest-django's stay untouched)."""
    base = os.environ.get("CUSTOS_DATABASE_URL")
    if not base:
        yield None
        return
    import psycopg
    from psycopg import sql

    database = f"custos_browser_{os.getpid()}_{name}"
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(statement)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        yield urlunsplit(urlsplit(base)._replace(path=f"/{database}"))
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(statement)


class Dashboard:
    """A migrated `custos-server run` on a free loopback port: on SQLite in `data`, or on
    the PostgreSQL database `database_url`."""

    def __init__(self, data: Path, database_url: str | None = None) -> None:
        self.database_url = database_url
        self.server = ServerProcess(data, database_url, free_port())
        self.server.cli("migrate")
        on_sqlite = (data / "custos.sqlite3").exists()
        assert on_sqlite == (database_url is None), "the server uses the wrong database"

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.kill()

    def unit(self, path: str) -> None:
        self.server.cli("unit", "add", path)

    def user(self, name: str, role: str, unit: str | None = None) -> str:
        """`custos-server user add` (the password on stdin); the user name."""
        where = ["--unit", unit] if unit else []
        self.server.cli("user", "add", name, "--role", role, *where, stdin=PASSWORD + "\n")
        return name

    def token(self, unit: str, uses: int, note: str = "") -> str:
        args = ["token", "create", "--unit", unit, "--uses", str(uses)]
        return self.server.cli(*args, *(["--note", note] if note else [])).stdout.strip()

    def policy(self, path: Path, unit: str) -> None:
        self.server.cli("policy", "add", str(path), "--unit", unit)

    def django(self, script: str, *args: str) -> str:
        """`script` run with Django set up in the server's environment (its data directory,
        its database); its standard output."""
        completed = subprocess.run(
            [sys.executable, "-c", "import django\ndjango.setup()\n" + script, *args],
            capture_output=True,
            text=True,
            env={
                **server_env(self.server.data),
                **({"CUSTOS_DATABASE_URL": self.database_url} if self.database_url else {}),
                "DJANGO_SETTINGS_MODULE": "server.settings",
            },
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    def time_travel(self, overdue: list[int], overdue_days: int = 7) -> None:
        """Make the database look as if every report had arrived when it was sent (weeks of
        history were sent in minutes), hosts had enrolled a little before their first report,
        and the rectifications `overdue` had been issued three weeks ago with a deadline
        `overdue_days` ago; then sweep (hosts whose last report is days old go silent) and
        roll the daily figures up, the past 30 days rebuilt from the reports."""
        self.django(TIME_TRAVEL, json.dumps(overdue), str(overdue_days))
        self.server.cli("sweep")
        self.server.cli("rollup", "--backfill", "30")


TIME_TRAVEL = textwrap.dedent(
    """
    import datetime as dt
    import json
    import sys

    from django.db import transaction
    from django.db.models import F, Max, Min
    from django.utils import timezone

    from server.fleet.models import Host, Report
    from server.rectification.models import Rectification, RectificationEvent

    overdue, overdue_days = json.loads(sys.argv[1]), int(sys.argv[2])
    today = timezone.localdate()
    with transaction.atomic():
        Report.objects.update(received_at=F("sent_at"))
        spans = Report.objects.values("host_id").annotate(first=Min("sent_at"), last=Max("sent_at"))
        for span in spans:
            Host.objects.filter(pk=span["host_id"]).update(
                first_seen=span["first"] - dt.timedelta(hours=2), last_seen=span["last"]
            )
        for notice in Rectification.objects.filter(pk__in=overdue):
            back = dt.timedelta(days=21)
            Rectification.objects.filter(pk=notice.pk).update(
                issued_at=F("issued_at") - back,
                deadline=today - dt.timedelta(days=overdue_days),
            )
            RectificationEvent.objects.filter(rectification=notice).update(at=F("at") - back)
    """
)


# --- machines that report over HTTP ----------------------------------------------------------


@dataclass
class Pc:
    """A machine enrolled over HTTP: its simulated agent and what it last delivered."""

    machine: Machine
    agent: SimulatedAgent
    unit: str
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def host_id(self) -> str:
        return self.agent.host_id


class HttpFleet:
    """Enrolls machines and sends their reports to the server's API, as agents do."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def enroll(self, token: str, unit: str, machine: Machine) -> Pc:
        agent = SimulatedAgent(hostname=machine.hostname)
        request = agent.enrollment_request(token)
        request["host"] = dict(
            report_payload(machine, agent.machine_id, utc_now(), Delivery())["host"]
        )
        answer = self.http.post("/api/v1/enroll", json=request)
        assert answer.status_code == 201, answer.text
        agent.enrolled(answer.json())
        return Pc(machine, agent, unit)

    def enroll_raw(self, token: str, agent: SimulatedAgent, host: dict[str, Any]) -> None:
        """Enroll `agent` announcing `host` as its facts (anything, e.g. hostile strings)."""
        request = agent.enrollment_request(token)
        request["host"] = host
        answer = self.http.post("/api/v1/enroll", json=request)
        assert answer.status_code == 201, answer.text
        agent.enrolled(answer.json())

    def report(
        self, pc: Pc, machine: Machine | None = None, *, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """One scheduled check of the machine (changed to `machine` first), reported as sent
        at `at` (default now): full or heartbeat as the agent decides."""
        if machine is not None:
            pc.machine = machine
        now = at or utc_now()
        payload = report_payload(pc.machine, pc.agent.machine_id, now, pc.delivery)
        ack = self.send(pc.agent, payload, at=now)
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

    def send(
        self, agent: SimulatedAgent, payload: dict[str, Any], *, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """`payload` signed by `agent` and posted to /api/v1/reports; the server's answer."""
        body = agent.envelope(payload, sent_at=at or utc_now())
        answer = self.http.post(
            "/api/v1/reports", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        ack: dict[str, Any] = answer.json()
        return ack


# --- a dashboard user over HTTP --------------------------------------------------------------


class SignedIn:
    """A dashboard user's HTTP session: signs in through the login form, posts forms with
    their CSRF token, as a browser would (no JavaScript needed by these forms)."""

    def __init__(self, url: str, name: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30, headers={"Accept-Language": "zh-CN"})
        form = self.http.get("/login/")
        answer = self.http.post(
            "/login/",
            data={
                "csrfmiddlewaretoken": self._csrf(form.text),
                "username": name,
                "password": PASSWORD,
            },
        )
        assert answer.status_code == 302, f"{name} could not sign in: {answer.status_code}"

    @staticmethod
    def _csrf(page: str) -> str:
        match = _CSRF_FIELD.search(page)
        assert match is not None, "no CSRF token on the page"
        return match.group(1)

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        token = self.http.cookies.get("csrftoken") or ""
        return self.http.post(path, data={"csrfmiddlewaretoken": token, **data})

    def issue(self, pc: Pc, rule: str, person: str, deadline: dt.date, remark: str = "") -> int:
        """Issue a rectification notice through the form; the new notice's number."""
        answer = self.post(
            "/rectifications/new/",
            {
                "host": pc.host_id,
                "rule": rule,
                "responsible_person": person,
                "deadline": deadline.isoformat(),
                "remark": remark,
            },
        )
        assert answer.status_code == 302, answer.text[:2000]
        match = re.search(r"/rectifications/(\d+)/$", answer.headers["location"])
        assert match is not None, answer.headers["location"]
        return int(match.group(1))

    def close_notice(self, number: int) -> None:
        answer = self.post(f"/rectifications/{number}/close/", {})
        assert answer.status_code == 302, answer.text[:2000]

    def close(self) -> None:
        self.http.close()


# --- the realistic world ---------------------------------------------------------------------

PROVINCE = "江苏省"
CITY = "江苏省/南京市"
COUNTY = "江苏省/南京市/玄武区"
OTHER_COUNTY = "江苏省/南京市/秦淮区"
OFFICES = {
    f"{COUNTY}/区委办公室": ("XW-BGS", "10.32.1", "区委办公室"),
    f"{COUNTY}/区教育局": ("XW-JYJ", "10.32.2", "区教育局"),
    f"{OTHER_COUNTY}/区财政局": ("QH-CZJ", "10.33.1", "区财政局"),
    f"{OTHER_COUNTY}/区卫健委": ("QH-WJW", "10.33.2", "区卫健委"),
}
# fmt: off
PEOPLE = (
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴刚",
    "徐丽", "孙涛", "马超", "朱琳", "胡军", "郭颖", "何平", "高翔", "林峰", "罗敏",
    "梁爽", "宋佳", "郑浩", "谢楠", "韩雪", "唐亮", "冯晨", "于洁", "董鹏", "萧然",
)
# fmt: on

# Per office, per PC number: how the machine differs from a compliant office PC today.
PROBLEMS: dict[str, dict[int, dict[str, Any]]] = {
    "XW-BGS": {
        3: {"remote_control": "TeamViewer"},
        5: {"unregistered_stick": True},
        8: {"vrv_running": False},
    },
    "XW-JYJ": {2: {"wifi_card": True}, 5: {"machine_number": ""}, 7: {"vrv_installed": False}},
    "QH-CZJ": {4: {"internet_reachable": True}, 6: {"zhongfu_installed": False}},
    "QH-WJW": {3: {"tianqing_running": False}, 4: {"responsible_person": ""}},
}
OFFICE_SIZES = {"XW-BGS": 8, "XW-JYJ": 8, "QH-CZJ": 7, "QH-WJW": 7}
SILENT = {("XW-BGS", 7), ("XW-JYJ", 8), ("QH-WJW", 6)}  # last heard of five days ago
HISTORY_DAYS = (28, 21, 14, 7, 1)  # scheduled reports before today's


@dataclass
class World:
    """The seeded server: who signs in, and the machines and notices the pages show."""

    dashboard: Dashboard
    city_admin: str
    county_admin: str
    pcs: dict[str, Pc]  # by host name
    notices: dict[str, int]  # what each seeded notice is for -> its number
    policy_pk: int

    @property
    def url(self) -> str:
        return self.dashboard.url


def _machine(prefix: str, subnet: str, department: str, number: int, index: int) -> Machine:
    machine = Machine(
        hostname=f"{prefix}-PC{number:02d}",
        ip=f"{subnet}.{20 + number}",
        mac=f"3c:52:82:{index // 256:02x}:{index % 256:02x}:{number:02x}",
        gateway=f"{subnet}.1",
        dns="10.32.0.53",
        machine_number=f"{prefix}-2024-{number:04d}",
        responsible_person=PEOPLE[index % len(PEOPLE)],
        department=department,
    )
    return replace(machine, **PROBLEMS[prefix].get(number, {}))


def _asset_quirks(machines: dict[str, Machine]) -> None:
    """Two register problems an audit finds: two PCs on one IP address, one machine number
    on two PCs with different addresses."""
    twin = machines["XW-JYJ-PC04"]
    machines["XW-JYJ-PC04"] = replace(twin, ip=machines["XW-JYJ-PC03"].ip)
    copy = machines["QH-WJW-PC07"]
    machines["QH-WJW-PC07"] = replace(copy, machine_number=machines["QH-WJW-PC05"].machine_number)


def seed_world(dashboard: Dashboard) -> World:
    """Units, people, policy, 30 machines with four weeks of reports, rectifications in each
    state (open, overdue, re-checked, closed), silent hosts, and the daily figures."""
    for office in OFFICES:
        dashboard.unit(office)
    city_admin = dashboard.user("nanjing-admin", "admin", CITY)
    county_admin = dashboard.user("xuanwu-admin", "admin", COUNTY)
    dashboard.user("xuanwu-auditor", "auditor", COUNTY)
    dashboard.user("qinhuai-admin", "admin", OTHER_COUNTY)
    dashboard.policy(POLICY_FILE, PROVINCE)
    dashboard.start()

    machines: dict[str, Machine] = {}
    units: dict[str, str] = {}
    index = 0
    for office, (prefix, subnet, department) in OFFICES.items():
        for number in range(1, OFFICE_SIZES[prefix] + 1):
            machine = _machine(prefix, subnet, department, number, index)
            machines[machine.hostname] = machine
            units[machine.hostname] = office
            index += 1
    _asset_quirks(machines)

    fleet = HttpFleet(dashboard.url)
    try:
        pcs = _report_history(dashboard, fleet, machines, units)
        notices = _rectifications(dashboard, fleet, pcs, county_admin)
    finally:
        fleet.close()
    dashboard.time_travel([notices["overdue"]])
    policy_pk = int(
        dashboard.django(
            "from server.fleet.models import Policy\n"
            "print(Policy.objects.get(policy_id='intranet-office').pk)"
        ).strip()
    )
    return World(dashboard, city_admin, county_admin, pcs, notices, policy_pk)


def _report_history(
    dashboard: Dashboard, fleet: HttpFleet, machines: dict[str, Machine], units: dict[str, str]
) -> dict[str, Pc]:
    """Every machine enrolls and reports weekly for four weeks; some had the VRV client
    stopped early on (the trend improves); silent ones stop five days ago."""
    tokens = {office: dashboard.token(office, uses=20, note="首批终端") for office in OFFICES}
    pcs: dict[str, Pc] = {}
    now = utc_now()
    for position, (name, machine) in enumerate(machines.items()):
        prefix, number = name.rsplit("-PC", 1)
        pc = fleet.enroll(tokens[units[name]], units[name], machine)
        pcs[name] = pc
        silent = (prefix, int(number)) in SILENT
        for days in HISTORY_DAYS:
            if silent and days < 5:
                continue
            early = days >= 14 and position % 3 == 0
            state = replace(machine, vrv_running=False) if early else machine
            fleet.report(pc, state, at=now - dt.timedelta(days=days, minutes=position))
        if silent:
            fleet.report(pc, machine, at=now - dt.timedelta(days=5, minutes=position))
        else:
            fleet.report(pc, machine, at=now - dt.timedelta(minutes=30 + position))
    return pcs


def _rectifications(
    dashboard: Dashboard, fleet: HttpFleet, pcs: dict[str, Pc], admin: str
) -> dict[str, int]:
    """Issued by the county admin through the form: one open, one that will be overdue, one
    re-checked by the next report, one closed after its re-check."""
    session = SignedIn(dashboard.url, admin)
    today = utc_now().date()
    try:
        remote = pcs["XW-BGS-PC03"]
        stick = pcs["XW-BGS-PC05"]
        stopped = pcs["XW-BGS-PC08"]
        missing = pcs["XW-JYJ-PC07"]
        notices = {
            "open": session.issue(
                remote,
                "no-remote-control",
                remote.machine.responsible_person,
                today + dt.timedelta(days=10),
                "卸载 TeamViewer，改用单位统一的运维通道。",
            ),
            "overdue": session.issue(
                stick,
                "no-unregistered-storage",
                stick.machine.responsible_person,
                today + dt.timedelta(days=14),
                "未登记U盘交保密办登记或停止使用。",
            ),
            "rechecked": session.issue(
                stopped,
                "terminal-registration-client",
                stopped.machine.responsible_person,
                today + dt.timedelta(days=7),
                "恢复终端注册客户端服务并设为自动启动。",
            ),
            "closed": session.issue(
                missing,
                "terminal-registration-client",
                missing.machine.responsible_person,
                today + dt.timedelta(days=7),
                "安装终端注册客户端。",
            ),
        }
        fleet.report(stopped, replace(stopped.machine, vrv_running=True))
        fleet.report(missing, replace(missing.machine, vrv_installed=True))
        session.close_notice(notices["closed"])
    finally:
        session.close()
    return notices

#!/usr/bin/env python3
"""Benchmark: dashboard page times on a fleet of 20,000 hosts with 30 days of reports.

    python3 bench/dashboard_pages.py [--hosts 20000] [--days 30] [--rounds 30] [--postgres URL]

Seeding (timed, not part of the page figures), into a fresh database: SQLite in a temporary
CUSTOS_DATA_DIR and, with `--postgres URL` (a role that may create databases, e.g. what
`scripts/postgres` prints), a fresh PostgreSQL database `custos_bench_dash_<pid>`, dropped
afterwards (and `VACUUM ANALYZE`d after seeding, as autovacuum would). A province (北京市),
16 districts, and units of 100 hosts each. Every host is an
office PC described like the dashboard tests describe them (`tests.dashboard.seed.Machine`):
most are clean, some have the VRV client stopped or missing, an unregistered USB stick, a
Wi-Fi card, remote-control software, an open internet path, an incomplete asset record or a
process list the agent cannot read (its rules could not be checked); one in ten is bad for a
stretch of days and then fixed. Its findings and report payloads come
from the agent's own code (facts evaluated against the bundled intranet office policy,
`agent.reporting.build_report`), its envelopes are signed by its own Ed25519 key: a full
report whenever its state changes, one heartbeat on every other day (what retention keeps).
The rows (hosts with their denormalised state, reports, latest findings and their history,
some rectifications) are written with bulk inserts in the shape ingest gives them, not by
posting 600,000 requests. The trend's daily figures are then built by the real rollup
(`backfill` over the report history, and today's), and timed.

Pages are requested through Django's test client in the same process (full middleware,
templates and queries; no network), signed in as the superuser (the whole province) or as a
district's admin, after two warm-up requests each: overview, the hosts list filtered and
searched, a host's page (a different host each round), violations, the asset register and
the network devices (网内未注册设备: about 100,000 neighbour sightings at 20,000 hosts, five per
host on average; `seed_sightings`).
p50 and p95 per page per database are printed; the target is p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DISTRICTS = 16
HOSTS_PER_UNIT = 100
TARGET_P95_MS = 300.0
CHUNK = 500  # hosts seeded per batch of inserts


# --- the fleet -----------------------------------------------------------------------------

# (weight, what is wrong with the machine) — the rest of the weight is clean machines
PROBLEMS: list[tuple[float, dict[str, Any]]] = [
    (0.05, {"vrv_running": False}),
    (0.03, {"vrv_installed": False}),
    (0.03, {"zhongfu_installed": False}),
    (0.04, {"unregistered_stick": True}),
    (0.03, {"wifi_card": True}),
    (0.02, {"remote_control": "TeamViewer"}),
    (0.01, {"internet_reachable": True}),
    (0.02, {"responsible_person": ""}),
    (0.01, {"process_list_readable": False}),  # could not be checked
]
PEOPLE = ("张三", "李四", "王五", "赵六", "陈晨", "刘洋", "杨帆", "黄磊", "周婷", "吴昊")


def pick_problem(rng: random.Random) -> dict[str, Any]:
    draw = rng.random()
    for weight, problem in PROBLEMS:
        if draw < weight:
            return problem
        draw -= weight
    return {}


@dataclass
class Plan:
    """One host: where it sits, who it is, and its state from each listed day on."""

    index: int
    unit_id: int
    host_id: str
    machine_id: str
    segments: list[tuple[int, Any]]  # (day index, Machine) — a full report on each
    stops_at: int | None  # silent: no report from this day index on
    clone: bool


def plan_hosts(units: list[tuple[int, int, int]], days: int, rng: random.Random) -> list[Plan]:
    from tests.dashboard.seed import Machine

    plans: list[Plan] = []
    for unit_id, district, unit_number in units:
        for k in range(HOSTS_PER_UNIT):
            index = len(plans)
            ip = f"10.{district}.{unit_number}.{k + 10}"
            if rng.random() < 0.002 and k > 0:  # the odd duplicated address
                ip = f"10.{district}.{unit_number}.{k + 9}"
            high, low = index >> 8 & 255, index & 255
            base = Machine(
                hostname=f"pc-{index:05d}",
                ip=ip,
                mac=f"52:54:{district:02x}:{unit_number:02x}:{high:02x}:{low:02x}",
                gateway=f"10.{district}.{unit_number}.1",
                dns=f"10.{district}.0.2",
                machine_number=f"BJ-{district:02d}-{unit_number:03d}-{k:03d}",
                responsible_person=rng.choice(PEOPLE),
            )
            machine = replace(base, **pick_problem(rng))
            segments: list[tuple[int, Any]] = [(0, machine)]
            if days > 4 and rng.random() < 0.10:  # bad for a while, then fixed
                start = rng.randrange(1, days - 2)
                problem = pick_problem(rng) or {"vrv_running": False}
                segments = [(0, base), (start, replace(base, **problem))]
                end = rng.randrange(start + 1, days)
                segments.append((end, base))
            plans.append(
                Plan(
                    index=index,
                    unit_id=unit_id,
                    host_id="h_" + secrets.token_hex(16),
                    machine_id=secrets.token_hex(16),
                    segments=segments,
                    stops_at=days - 3 if rng.random() < 0.01 else None,
                    clone=rng.random() < 0.001,
                )
            )
    return plans


def make_units(hosts: int) -> tuple[Any, list[Any], list[tuple[int, int, int]]]:
    """The province, its districts, and (unit id, district number, unit number) of each unit
    the hosts sit on."""
    from server.accounts.models import Unit

    province = Unit.objects.create(name="北京市", path="北京市")
    districts = [
        Unit.objects.create(
            name=f"第{number + 1}区", parent=province, path=f"北京市/第{number + 1}区"
        )
        for number in range(DISTRICTS)
    ]
    count = max(1, hosts // HOSTS_PER_UNIT)
    leaves: list[tuple[int, int, int]] = []
    for number in range(count):
        district = districts[number % DISTRICTS]
        name = f"单位{number // DISTRICTS + 1:03d}"
        unit = Unit.objects.create(name=name, parent=district, path=f"{district.path}/{name}")
        leaves.append((unit.pk, number % DISTRICTS, number // DISTRICTS))
    return province, districts, leaves


# --- rows as ingest writes them ------------------------------------------------------------


def heartbeat(full: dict[str, Any], created_at: str) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "heartbeat",
        "created_at": created_at,
        "trigger": "schedule",
        "state_hash": full["state_hash"],
        "policy": full["policy"],
        "summary": full["summary"],
        "answered_commands": [],
    }


def seed_chunk(plans: list[Plan], days: int, start: dt.datetime, now: dt.datetime) -> int:
    """Hosts, reports, latest findings and finding history of `plans`; the reports written."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agent.protocol.envelope import encode_envelope, format_time
    from agent.protocol.payload import encode_payload
    from agent.state import Delivery
    from server.fleet import state
    from server.fleet.identity import identity_from
    from server.fleet.models import (
        FindingChange,
        Host,
        HostAddress,
        HostStatus,
        LatestFinding,
        Report,
    )
    from tests.dashboard.seed import report_payload

    hosts: list[Any] = []
    neighbours: list[tuple[list[str], list[str]]] = []  # (gateways, DNS servers) per host
    reports: list[list[Any]] = []
    fulls: list[list[tuple[int, dict[str, Any]]]] = []  # per host: (report index, payload)
    for plan in plans:
        key = Ed25519PrivateKey.generate()
        starts = dict(plan.segments)
        last_day = (plan.stops_at or days) - 1
        rows: list[Any] = []
        full_payloads: list[tuple[int, dict[str, Any]]] = []
        current: dict[str, Any] = {}
        for day in range(last_day + 1):
            sent = start + dt.timedelta(days=day, minutes=plan.index % 600)
            if day in starts:
                current = report_payload(starts[day], plan.machine_id, sent, Delivery())
                payload, kind = current, "full"
                full_payloads.append((len(rows), current))
            else:
                payload, kind = heartbeat(current, format_time(sent)), "heartbeat"
            body = encode_envelope(
                key, plan.host_id, len(rows) + 1, sent, encode_payload(payload), compress=True
            )
            summary = payload["summary"]
            rows.append(
                Report(
                    seq=len(rows) + 1,
                    received_at=sent + dt.timedelta(seconds=1),
                    sent_at=sent,
                    kind=kind,
                    envelope=body,
                    trigger="schedule",
                    state_hash=payload["state_hash"],
                    policy_id=payload["policy"]["id"],
                    policy_version=payload["policy"]["version"],
                    policy_sha256=payload["policy"]["sha256"],
                    compliant=summary["compliant"],
                    passed=summary["passed"],
                    failed=summary["failed"],
                    errors=summary["errors"],
                    not_applicable=summary["not_applicable"],
                )
            )
        last_full = full_payloads[-1][1]
        host = Host(
            host_id=plan.host_id,
            unit_id=plan.unit_id,
            public_key=key.public_key().public_bytes_raw(),
            first_seen=start - dt.timedelta(hours=1),
            last_seen=rows[-1].received_at,
            last_seq=len(rows),
            last_full_state_hash=last_full["state_hash"],
            policy_id=last_full["policy"]["id"],
            policy_version=last_full["policy"]["version"],
            status=HostStatus.ACTIVE,
        )
        for name, value in identity_from(last_full["host"]).fields().items():
            setattr(host, name, value)
        state.apply_failures(host, last_full["findings"])
        neighbours.append(state.neighbours(last_full["inventory"]))
        if plan.stops_at is not None:
            host.status = HostStatus.SILENT
            host.silent_since = host.last_seen + dt.timedelta(hours=3)
        if plan.clone:
            host.clone_suspected_at = now - dt.timedelta(days=2)
            host.clone_reason = "two different reports signed with seq 12"
        hosts.append(host)
        reports.append(rows)
        fulls.append(full_payloads)

    Host.objects.bulk_create(hosts, batch_size=CHUNK)
    if any(host.pk is None for host in hosts):  # databases that do not return ids
        ids = dict(
            Host.objects.filter(host_id__in=[h.host_id for h in hosts]).values_list("host_id", "pk")
        )
        for host in hosts:
            host.pk = ids[host.host_id]
    flat: list[Any] = []
    for host, rows in zip(hosts, reports, strict=True):
        for row in rows:
            row.host_id = host.pk
        flat.extend(rows)
    Report.objects.bulk_create(flat, batch_size=2000)
    if any(row.pk is None for row in flat):
        pks = {
            (host_pk, seq): pk
            for host_pk, seq, pk in Report.objects.filter(host__in=hosts).values_list(
                "host_id", "seq", "pk"
            )
        }
        for row in flat:
            row.pk = pks[(row.host_id, row.seq)]

    findings: list[Any] = []
    changes: list[Any] = []
    for host, rows, full_payloads in zip(hosts, reports, fulls, strict=True):
        host.last_report_id = rows[-1].pk
        previous: dict[str, dict[str, Any]] = {}
        first_seen: dict[str, dt.datetime] = {}
        since: dict[str, dt.datetime] = {}
        for position, payload in full_payloads:
            report = rows[position]
            for finding in payload["findings"]:
                rule, status = finding["rule"], finding["status"]
                first_seen.setdefault(rule, report.sent_at)
                old = previous.get(rule, {}).get("status", "")
                if old != status:
                    since[rule] = report.sent_at
                    changes.append(
                        FindingChange(
                            host_id=host.pk,
                            rule=rule,
                            old_status=old,
                            new_status=status,
                            at=report.sent_at,
                            report_id=report.pk,
                        )
                    )
                previous[rule] = finding
        position, payload = full_payloads[-1]
        report = rows[position]
        for finding in payload["findings"]:
            rule = finding["rule"]
            installed, running = state.required_software_state(
                finding["category"], finding["evidence"]
            )
            remedy = finding.get("remedy") or {"zh": "", "en": ""}
            findings.append(
                LatestFinding(
                    host_id=host.pk,
                    rule=rule,
                    category=finding["category"],
                    severity=finding["severity"],
                    status=finding["status"],
                    title_zh=finding["title"]["zh"],
                    title_en=finding["title"]["en"],
                    message_zh=finding["message"]["zh"],
                    message_en=finding["message"]["en"],
                    remedy_zh=remedy["zh"],
                    remedy_en=remedy["en"],
                    evidence=finding["evidence"],
                    required=state.is_required_software(finding["category"], finding["evidence"]),
                    installed=installed,
                    running=running,
                    first_seen=first_seen[rule],
                    last_seen=report.sent_at,
                    since=since[rule],
                    report_id=report.pk,
                )
            )
    Host.objects.bulk_update(hosts, ["last_report"], batch_size=CHUNK)
    addresses = []
    for host, (gateways, dns_servers) in zip(hosts, neighbours, strict=True):
        kinds = [("ip", host.ip_addresses), ("mac", host.mac_addresses)]
        kinds += [("gateway", gateways), ("dns", dns_servers)]
        addresses.extend(
            HostAddress(host_id=host.pk, kind=kind, value=value)
            for kind, values in kinds
            for value in dict.fromkeys(values)
        )
    HostAddress.objects.bulk_create(addresses, batch_size=2000)
    LatestFinding.objects.bulk_create(findings, batch_size=2000)
    FindingChange.objects.bulk_create(changes, batch_size=2000)
    return len(flat)


def seed_rectifications(now: dt.datetime, rng: random.Random) -> int:
    """Notices for one in five failing findings, some overdue, some re-checked or closed."""
    from django.utils import timezone

    from server.fleet.models import LatestFinding
    from server.rectification.models import Rectification, Status

    rows = []
    today = timezone.localdate(now)
    for finding in LatestFinding.objects.filter(status="fail").iterator(chunk_size=2000):
        if rng.random() >= 0.2:
            continue
        status = rng.choice([Status.OPEN, Status.OPEN, Status.RECHECKED, Status.CLOSED])
        rows.append(
            Rectification(
                host_id=finding.host_id,
                rule=finding.rule,
                title_zh=finding.title_zh,
                title_en=finding.title_en,
                message_zh=finding.message_zh,
                message_en=finding.message_en,
                remedy_zh=finding.remedy_zh,
                remedy_en=finding.remedy_en,
                severity=finding.severity,
                category=finding.category,
                evidence=finding.evidence,
                responsible_person="张三",
                deadline=today + dt.timedelta(days=rng.randint(-10, 20)),
                status=status,
                issued_at=now - dt.timedelta(days=12),
            )
        )
    Rectification.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


GUESTS_PER_UNIT = 5  # unregistered devices in each unit's network
PRINTERS_PER_UNIT = 2


def seed_sightings(
    plans: list[Plan], start: dt.datetime, now: dt.datetime, rng: random.Random
) -> int:
    """LAN neighbours as ingest records them (`server.sightings.recording`): every host sees
    its unit's gateway, a printer, the next two PCs of its unit and, one in two, the other
    printer and one of five guest devices nobody registered; the devices and sightings are
    bulk-inserted, one row per MAC per unit and one per (device, host): five sightings per
    host on average, 100,000 at 20,000 hosts."""
    from collections import defaultdict

    from server.fleet.models import Host
    from server.sightings.models import Device, Sighting, SourceKind

    hosts = {
        host_id: (pk, macs[0], ips[0])
        for host_id, pk, macs, ips in Host.objects.values_list(
            "host_id", "pk", "mac_addresses", "ip_addresses"
        )
    }
    by_unit: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        by_unit[plan.unit_id].append(plan)
    sightings = 0
    for unit_id, members in by_unit.items():
        prefix = hosts[members[0].host_id][2].rsplit(".", 1)[0]
        high, low = unit_id >> 8 & 255, unit_id & 255

        def mac(oui: str, last: int, high: int = high, low: int = low) -> str:
            return f"{oui}:{high:02x}:{low:02x}:{last:02x}"

        macs = {
            "gateway": (mac("00:0f:e2", 1), f"{prefix}.1"),
            **{
                f"printer{n}": (mac("00:1b:a9", n + 2), f"{prefix}.{n + 2}")
                for n in range(PRINTERS_PER_UNIT)
            },
            **{
                f"guest{n}": (mac("00:1b:21", n + 200), f"{prefix}.{n + 200}")
                for n in range(GUESTS_PER_UNIT)
            },
        }
        # The PCs are seen by their neighbours too: devices with an enrolled host's MAC.
        for plan in members:
            _, host_mac, host_ip = hosts[plan.host_id]
            macs[plan.host_id] = (host_mac, host_ip)
        first = start + dt.timedelta(hours=rng.randrange(0, 48))
        devices = Device.objects.bulk_create(
            [
                Device(
                    unit_id=unit_id,
                    mac=mac,
                    vendor="",
                    last_ip=ip,
                    first_seen=first,
                    last_seen=now - dt.timedelta(hours=rng.randrange(0, 72)),
                )
                for mac, ip in macs.values()
            ],
            batch_size=2000,
        )
        if any(device.pk is None for device in devices):
            ids = dict(Device.objects.filter(unit_id=unit_id).values_list("mac", "pk"))
            for device in devices:
                device.pk = ids[device.mac]
        device_of = dict(zip(macs, devices, strict=True))
        rows = []
        for position, plan in enumerate(members):
            seen = ["gateway", f"printer{position % PRINTERS_PER_UNIT}"]
            seen.append(members[(position + 1) % len(members)].host_id)
            seen.append(members[(position + 2) % len(members)].host_id)
            if rng.random() < 0.5:
                seen.append(f"guest{rng.randrange(GUESTS_PER_UNIT)}")
            if rng.random() < 0.5:
                seen.append(f"printer{(position + 1) % PRINTERS_PER_UNIT}")
            for key in dict.fromkeys(seen):
                device = device_of[key]
                rows.append(
                    Sighting(
                        device=device,
                        kind=SourceKind.AGENT,
                        host_id=hosts[plan.host_id][0],
                        ip=device.last_ip,
                        where="eth0",
                        state="stale",
                        first_seen=device.first_seen,
                        last_seen=device.last_seen,
                        current=rng.random() < 0.95,
                        updated_at=now,
                    )
                )
        Sighting.objects.bulk_create(rows, batch_size=2000)
        sightings += len(rows)
    return sightings


def seed(hosts: int, days: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from server.accounts.models import Membership, Role
    from server.dashboard import rollup

    rng = random.Random(2026)
    now = timezone.now().replace(microsecond=0)
    start = (now - dt.timedelta(days=days - 1)).replace(hour=1, minute=0, second=0)
    began = time.perf_counter()
    _, districts, leaves = make_units(hosts)
    User.objects.create_superuser("root", "", "bench password 2026")
    admin = User.objects.create_user("district-admin", "", "bench password 2026")
    Membership.objects.create(user=admin, unit=districts[0], role=Role.ADMIN)
    plans = plan_hosts(leaves, days, rng)
    reports = 0
    for first in range(0, len(plans), CHUNK):
        reports += seed_chunk(plans[first : first + CHUNK], days, start, now)
    notices = seed_rectifications(now, rng)
    sightings = seed_sightings(plans, start, now, rng)
    seeded = time.perf_counter() - began
    began = time.perf_counter()
    backfilled = rollup.backfill(days - 1, now)
    backfill_seconds = time.perf_counter() - began
    began = time.perf_counter()
    rollup.rollup_today(now)
    today_seconds = time.perf_counter() - began
    return {
        "hosts": len(plans),
        "units": len(leaves) + len(districts) + 1,
        "reports": reports,
        "rectifications": notices,
        "sightings": sightings,
        "seed_seconds": seeded,
        "backfill_rows": backfilled,
        "backfill_seconds": backfill_seconds,
        "rollup_today_seconds": today_seconds,
        "district": districts[0].pk,
        "sample_ip": f"10.3.{len(leaves) // DISTRICTS // 2}.42",
        "sample_name": f"pc-{len(plans) // 2:05d}",
    }


# --- timing --------------------------------------------------------------------------------


def quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def measure(seeded: dict[str, Any], rounds: int) -> list[dict[str, Any]]:
    from django.contrib.auth.models import User
    from django.test import Client

    from server.fleet.models import Host

    root = Client()
    root.force_login(User.objects.get(username="root"))
    admin = Client()
    admin.force_login(User.objects.get(username="district-admin"))
    host_ids = list(Host.objects.order_by("?").values_list("host_id", flat=True)[: rounds + 2])
    district = seeded["district"]
    pages: list[tuple[str, Client, Callable[[int], str]]] = [
        ("overview (superuser: province)", root, lambda _: "/"),
        ("overview (district admin)", admin, lambda _: "/"),
        ("overview 90-day trend (superuser)", root, lambda _: "/?days=90"),
        (
            "hosts: district, non-compliant",
            root,
            lambda _: f"/hosts/?unit={district}&compliance=noncompliant",
        ),
        ("hosts: failing software, all", root, lambda _: "/hosts/?category=software"),
        ("hosts: by last report, page 200", root, lambda _: "/hosts/?sort=-last_seen&page=200"),
        ("hosts: search IP", root, lambda _: f"/hosts/?q={seeded['sample_ip']}"),
        ("hosts: search host name", root, lambda _: f"/hosts/?q={seeded['sample_name']}"),
        ("hosts: search person (district admin)", admin, lambda _: "/hosts/?q=张三"),
        ("host detail", root, lambda n: f"/hosts/{host_ids[n]}/"),
        ("violations (superuser)", root, lambda _: "/violations/"),
        ("asset register (superuser)", root, lambda _: "/assets/"),
        ("asset register (district admin)", admin, lambda _: "/assets/"),
        ("network devices: unregistered (superuser)", root, lambda _: "/network-devices/"),
        ("network devices: unregistered (district)", admin, lambda _: "/network-devices/"),
        ("network devices: search IP", root, lambda _: "/network-devices/?q=10.3."),
        (
            "network devices: all, last seen, page 100",
            root,
            lambda _: "/network-devices/?show=all&sort=seen&page=100",
        ),
    ]
    results = []
    for name, client, url in pages:
        samples = []
        for attempt in range(rounds + 2):
            began = time.perf_counter()
            response = client.get(url(attempt))
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url(attempt)} answered {response.status_code}")
            if attempt >= 2:
                samples.append(elapsed)
        p50, p95 = quantiles(samples)
        results.append({"page": name, "p50": p50, "p95": p95})
    return results


def child(hosts: int, days: int, rounds: int) -> int:
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    seeded = seed(hosts, days)
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load (statistics, visibility map): without it the
        # planner would not know the tables' sizes, nor could it use index-only scans.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    seeded["pages"] = measure(seeded, rounds)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            seeded["database_bytes"] = cursor.fetchone()[0]
    else:
        seeded["database_bytes"] = Path(connection.settings_dict["NAME"]).stat().st_size
    print(json.dumps(seeded))
    return 0


# --- runs ----------------------------------------------------------------------------------


def run_child(args: argparse.Namespace, data_dir: Path, database_url: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "CUSTOS_DATA_DIR": str(data_dir),
            "CUSTOS_ALLOWED_HOSTS": "testserver",
        }
    )
    if database_url:
        env["CUSTOS_DATABASE_URL"] = database_url
    command = [
        sys.executable,
        __file__,
        "--child",
        "--hosts",
        str(args.hosts),
        "--days",
        str(args.days),
        "--rounds",
        str(args.rounds),
    ]
    completed = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(
            f"the benchmark child failed:\n{completed.stdout[-2000:]}{completed.stderr[-4000:]}"
        )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def postgres_database(url: str, name: str, drop: bool) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def print_result(label: str, result: dict[str, Any]) -> bool:
    print(f"\n== {label} ==")
    print(
        f"seeded {result['hosts']} hosts in {result['units']} units, {result['reports']} reports, "
        f"{result['rectifications']} rectifications, {result['sightings']} neighbour sightings "
        f"in {result['seed_seconds']:.0f} s; "
        f"database {result['database_bytes'] / 2**20:.0f} MiB"
    )
    print(
        f"rollup: backfill of past days {result['backfill_seconds']:.1f} s "
        f"({result['backfill_rows']} rows), today {result['rollup_today_seconds'] * 1000:.0f} ms"
    )
    print(f"{'page':42} {'p50 ms':>8} {'p95 ms':>8}")
    met = True
    for page in result["pages"]:
        flag = "" if page["p95"] <= TARGET_P95_MS else "  over target"
        met = met and not flag
        print(f"{page['page']:42} {page['p50']:8.1f} {page['p95']:8.1f}{flag}")
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per page")
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh PostgreSQL database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.hosts, args.days, args.rounds)
    if args.hosts < HOSTS_PER_UNIT or args.days < 2 or args.rounds < 2:
        parser.error(f"need at least {HOSTS_PER_UNIT} hosts, 2 days and 2 rounds")
    print(f"{args.hosts} hosts x {args.days} days, {args.rounds} timed requests per page")
    print(f"cpus: {os.cpu_count()}")
    met = True
    with tempfile.TemporaryDirectory(prefix="custos-bench-dash-") as tmp:
        met = print_result("SQLite", run_child(args, Path(tmp) / "sqlite", None)) and met
        if args.postgres:
            name = f"custos_bench_dash_{os.getpid()}"
            url = postgres_database(args.postgres, name, drop=False)
            try:
                met = print_result("PostgreSQL", run_child(args, Path(tmp) / "pg", url)) and met
            finally:
                postgres_database(args.postgres, name, drop=True)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

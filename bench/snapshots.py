#!/usr/bin/env python3
"""Benchmark: `snapshot create` and `verify` on a seeded fleet, beside their floors.

    python3 bench/snapshots.py [--hosts 10000] [--days 30] [--postgres URL] [--data DIR]

Seeds a fresh database with the fleet of bench/dashboard_pages.py (a province, 16
districts, units of 100 office PCs whose reports the agent's own code made and signed: a
full report whenever a PC's state changes, heartbeats in between, some rectifications):
SQLite in a temporary CUSTOS_DATA_DIR (or, with `--data DIR`, the SQLite data directory of
an earlier run, reused as it is) and, with `--postgres URL` (a role that may create
databases), a fresh PostgreSQL database `custos_bench_snap_<pid>`, dropped afterwards.

Then, each in a process of its own, timed (wall clock, CPU of the process and its worker,
peak RSS of the larger of the two, from wait4):

    floor: read the rows      what an export cannot do without: every row it reads (hosts,
                              rule results, the reports named, rectifications), as tuples
    snapshot create           `custos-server snapshot create`, a district and the province
    create, one process       the same without the worker process (the CPU it needs)
    floor: Ed25519 + inflate  what a verify cannot do without: inflate and hash every member,
                              check every report's signature
    verify                    `custos-server verify`, the district's file and the province's
    verify, one process       the same without the worker process

The district (one of 16) against the province shows whether memory stays flat as the
fleet grows. Targets (issue 14): 10,000 hosts in 10 s or less for create and for verify;
peak RSS independent of the number of hosts. The load average is printed with each row:
the figures are only comparable on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROVINCE = "北京市"
DISTRICT = "北京市/第1区"
TARGET_SECONDS = 10.0
TARGET_HOSTS = 10_000
FLAT_RSS = 1.25  # the province's peak RSS over the district's, at most


# --- what runs in the child processes ------------------------------------------------------


def _django() -> None:
    import django

    django.setup()


def child_seed(hosts: int, days: int) -> dict[str, Any]:
    import dashboard_pages
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    seeded = dashboard_pages.seed(hosts, days)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    return {key: seeded[key] for key in ("hosts", "reports", "rectifications", "seed_seconds")}


def child_read_rows(unit_path: str) -> dict[str, Any]:
    """The export's own queries, batch by batch (`contents._Batch`), and nothing done with
    what they return: no record built, no report decoded, nothing written."""
    import itertools

    from server.accounts.units import find_unit
    from server.snapshots import contents

    hosts = 0
    rows = contents.hosts_of(find_unit(unit_path)).values(*contents._HOST_FIELDS)
    iterator = rows.iterator(chunk_size=contents.HOSTS_PER_BATCH)
    while batch := list(itertools.islice(iterator, contents.HOSTS_PER_BATCH)):
        contents._Batch(batch)
        hosts += len(batch)
    return {"hosts": hosts}


def child_verify_floor(file: str) -> dict[str, Any]:
    """Inflate and hash every member; decode and check the signature of every report."""
    import base64
    import hashlib
    import zipfile

    from agent.protocol.envelope import decode_envelope, verify_envelope

    with zipfile.ZipFile(file) as archive:
        keys = {}
        with archive.open("snapshot.json") as stream:
            stream.readline()
            for line in stream:
                if line.startswith(b"]"):
                    break
                record = json.loads(line.rstrip(b",\n"))
                keys[record["host_id"]] = base64.b64decode(record["public_key"])
        for name in archive.namelist():
            digest = hashlib.sha256()
            with archive.open(name) as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        checked = 0
        with archive.open("reports.jsonl") as stream:
            for line in stream:
                item = json.loads(line)
                envelope = decode_envelope(item["envelope"].encode("utf-8"), max_bytes=1 << 24)
                verify_envelope(envelope, keys[item["host_id"]])
                checked += 1
    return {"reports": checked}


def child_create(unit_path: str, out: str, parallel: bool) -> dict[str, Any]:
    from server.accounts.units import find_unit
    from server.snapshots.create import create_snapshot

    created = create_snapshot(find_unit(unit_path), Path(out), "cli:bench", parallel=parallel)
    return {"hosts": created.hosts}


def child_verify(file: str, parallel: bool) -> dict[str, Any]:
    from server.snapshots.verify import verify_snapshot

    outcome = verify_snapshot(Path(file), parallel=parallel)
    if not outcome.valid:
        raise SystemExit(f"{file} did not verify: {outcome.problems[:3]}")
    return {"hosts": outcome.hosts}


def child(args: argparse.Namespace) -> int:
    if args.child in ("seed", "read-rows", "create"):
        _django()
    if args.child == "seed":
        result = child_seed(args.hosts, args.days)
    elif args.child == "read-rows":
        result = child_read_rows(args.unit)
    elif args.child == "verify-floor":
        result = child_verify_floor(args.file)
    elif args.child == "create":
        result = child_create(args.unit, args.file, args.parallel)
    else:
        result = child_verify(args.file, args.parallel)
    print(json.dumps(result))
    return 0


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Measured:
    what: str
    hosts: int
    wall: float
    cpu: float
    rss_mib: float
    load: float


def environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUSTOS_", "DJANGO_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "CUSTOS_DATA_DIR": str(data_dir),
        }
    )
    if database_url:
        env["CUSTOS_DATABASE_URL"] = database_url
    return env


def timed(command: list[str], env: dict[str, str]) -> tuple[str, float, float, float]:
    """Run `command`; its output, wall seconds, CPU seconds (with its reaped children) and
    peak RSS in MiB (the largest of it and its children), from wait4."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        output, errors = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-2000:]}{errors[-4000:]}")
    return output, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(what: str, command: list[str], env: dict[str, str]) -> Measured:
    _, wall, cpu, rss = timed(command, env)
    return Measured(what, 0, wall, cpu, rss, os.getloadavg()[0])


def me(*args: str) -> list[str]:
    return [sys.executable, __file__, *args]


def server(*args: str) -> list[str]:
    return [sys.executable, "-m", "server", *args]


def counts_of(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        return dict(json.loads(archive.read("manifest.json"))["counts"])


def run_database(label: str, data_dir: Path, url: str | None, args: argparse.Namespace) -> bool:
    env = environment(data_dir, url)
    seeded: dict[str, Any] = {}
    if not (args.data and url is None):
        seed = me("--child", "seed", "--hosts", str(args.hosts), "--days", str(args.days))
        output, wall, _, _ = timed(seed, env)
        seeded = {**json.loads(output.strip().splitlines()[-1]), "wall": wall}
    files = data_dir.parent / f"{label}-files"
    files.mkdir(exist_ok=True)
    district, province = files / "district.zip", files / "province.zip"
    steps = [
        ("floor: read the rows", me("--child", "read-rows", "--unit", PROVINCE)),
        (
            "snapshot create, a district",
            server("snapshot", "create", "--unit", DISTRICT, "--out", str(district)),
        ),
        (
            "snapshot create, the province",
            server("snapshot", "create", "--unit", PROVINCE, "--out", str(province)),
        ),
        (
            "create, one process",
            me("--child", "create", "--unit", PROVINCE, "--file", str(files / "one.zip")),
        ),
        ("floor: inflate, hash, Ed25519", me("--child", "verify-floor", "--file", str(province))),
        ("verify, the district's file", server("verify", str(district))),
        ("verify, the province's file", server("verify", str(province))),
        ("verify, one process", me("--child", "verify", "--file", str(province))),
    ]
    rows = [measure(what, command, env) for what, command in steps]
    counts = counts_of(province)
    for row in rows:
        row.hosts = counts_of(district)["hosts"] if "district" in row.what else counts["hosts"]
    return report(label, seeded, rows, counts, district, province)


def report(
    label: str,
    seeded: dict[str, Any],
    rows: list[Measured],
    counts: dict[str, Any],
    district: Path,
    province: Path,
) -> bool:
    print(f"\n== {label} ==")
    if seeded:
        print(
            f"seeded {seeded['hosts']} hosts, {seeded['reports']} reports, "
            f"{seeded['rectifications']} rectifications in {seeded['wall']:.0f} s"
        )
    print(
        f"province: {counts['hosts']} hosts, {counts['reports']} reports in the snapshot, "
        f"states {counts['states']}; file {province.stat().st_size / 2**20:.0f} MiB "
        f"(district {district.stat().st_size / 2**20:.1f} MiB)"
    )
    print(f"{'what':34} {'hosts':>7} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13} {'load':>5}")
    for row in rows:
        print(
            f"{row.what:34} {row.hosts:7} {row.wall:7.1f} {row.cpu:7.1f} "
            f"{row.rss_mib:13.0f} {row.load:5.1f}"
        )
    by = {row.what: row for row in rows}
    scale = counts["hosts"] / TARGET_HOSTS
    create, verify = by["snapshot create, the province"], by["verify, the province's file"]
    met = True
    for row in (create, verify):
        per_target = row.wall / scale
        ok = per_target <= TARGET_SECONDS
        met = met and ok
        print(
            f"{row.what}: {per_target:.1f} s per {TARGET_HOSTS} hosts "
            f"(target {TARGET_SECONDS:.0f} s: {'met' if ok else 'NOT met'})"
        )
    for small, large in (
        ("snapshot create, a district", "snapshot create, the province"),
        ("verify, the district's file", "verify, the province's file"),
    ):
        ratio = by[large].rss_mib / by[small].rss_mib
        ok = ratio <= FLAT_RSS
        met = met and ok
        print(f"peak RSS {large} / {small}: {ratio:.2f} ({'flat' if ok else 'NOT flat'})")
    return met


def postgres_database(url: str, name: str, drop: bool) -> str:
    from dashboard_pages import postgres_database as make

    return str(make(url, name, drop))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=TARGET_HOSTS)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh PostgreSQL database")
    parser.add_argument("--data", metavar="DIR", help="reuse this seeded SQLite data directory")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--unit", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--parallel", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    print(f"{args.hosts} hosts x {args.days} days; cpus: {os.cpu_count()}")
    met = True
    with tempfile.TemporaryDirectory(prefix="custos-bench-snap-") as tmp:
        data = Path(args.data) if args.data else Path(tmp) / "sqlite"
        data.mkdir(exist_ok=True)
        met = run_database("SQLite", data, None, args) and met
        if args.postgres:
            name = f"custos_bench_snap_{os.getpid()}"
            url = postgres_database(args.postgres, name, drop=False)
            try:
                pg = Path(tmp) / "postgres"
                pg.mkdir()
                met = run_database("PostgreSQL", pg, url, args) and met
            finally:
                postgres_database(args.postgres, name, drop=True)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

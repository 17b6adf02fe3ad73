#!/usr/bin/env python3
"""Benchmark: report ingest over HTTP against its in-process floor (issue 3).

    python3 bench/ingest_throughput.py [--agents 40] [--reports 25] [--rounds 3] [--postgres URL]

One real full payload is taken from this machine (an in-process check against the bundled
internet-office policy, which runs no network probe, and `agent.reporting.build_report`).
Every simulated agent gets its own key, host name and machine id (so its own state hash),
enrolls through the real enrollment path, and has its envelopes built before timing with
`agent.protocol.envelope.encode_envelope`: seq 1 a full report, seq 2..R heartbeats (the
steady state).

HTTP: a real `custos-server run --workers 2` (gunicorn, gthread) on a loopback port, on a
fresh database; the agents post concurrently, one thread and one keep-alive httpx.Client
each, each its own reports in seq order. Accepted reports per second over the whole run;
any answer other than 200 (or an acknowledgement that does not match) ends the benchmark
with exit status 1.

Floor: in a child process on another fresh database of the same kind, single thread, no
HTTP: `server.fleet.ingest.ingest(body, now, max_bytes)` for the same mix (agents enrolled
with `server.fleet.enrollment.enroll`, from the same request bodies), round-robin in seq order.

HTTP and floor alternate `--rounds` times, each on a fresh database; medians are printed,
and the ratio is the median of the rounds' ratios (an HTTP run against the floor run right
after it), which holds up when other work shares the machine. With `--postgres URL` (a role
that may create databases, e.g. what `scripts/postgres` prints) the rounds are repeated on
fresh PostgreSQL databases `custos_bench_<pid>_<round>_{http,floor}`, dropped afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import pickle
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.protocol.envelope import encode_envelope, format_time
from agent.protocol.payload import encode_payload
from bench._support import POLICY, ROOT, prepare_server, start_server

SQLITE_FILE = "custos.sqlite3"


# --- the reports ---------------------------------------------------------------------------


def real_check() -> Any:
    """One real check of this machine against the bundled internet-office policy."""
    from agent.checking import run_check
    from agent.facts import AssetFields
    from agent.platforms import current_platform
    from agent.policy.loader import load_policy_bytes

    policy = load_policy_bytes(POLICY.read_bytes(), str(POLICY))
    asset = AssetFields("BJ-2026-0417", "张三", "办公室", "内部", "internet")
    return run_check(policy, current_platform(), asset, whole_inventory=True)


@dataclasses.dataclass
class BenchAgent:
    index: int
    key: Ed25519PrivateKey
    enroll_body: bytes
    full: dict[str, Any]
    heartbeat: dict[str, Any]
    host_id: str = ""
    envelopes: list[bytes] = dataclasses.field(default_factory=list)


def make_agent(result: Any, index: int, token: str) -> BenchAgent:
    """Agent `index`: this machine's check result under its own identity, its enrollment
    request (as `custos-agent enroll` builds it), its full report and its heartbeat."""
    from agent.commands.enroll import enrollment_host
    from agent.probes.keytext import encode_public_key
    from agent.protocol.auth import enrollment_proof
    from agent.protocol.canonical import canonical_json
    from agent.reporting import build_report
    from agent.state import Delivery

    hostname = f"bench-pc-{index:03d}"
    facts = dataclasses.replace(
        result.inventory.host,
        hostname=hostname,
        fqdn=f"{hostname}.bj.example.gov.cn",
        machine_id=hashlib.sha256(f"bench-{index}".encode()).hexdigest()[:32],
    )
    mine = dataclasses.replace(result, inventory=dataclasses.replace(result.inventory, host=facts))
    now = dt.datetime.now(dt.timezone.utc)
    full = build_report(mine, "startup", Delivery(), now=now)
    acknowledged = Delivery(1, format_time(now), full.state_hash, format_time(now))
    heartbeat = build_report(mine, "schedule", acknowledged, now=now)
    assert (full.kind, heartbeat.kind) == ("full", "heartbeat")
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    request = {
        "v": 1,
        "token": token,
        "public_key": encode_public_key(public),
        "host": enrollment_host(facts),
        "proof": enrollment_proof(key, token, public),
    }
    return BenchAgent(index, key, canonical_json(request), full.payload, heartbeat.payload)


def build_envelopes(agent: BenchAgent, reports: int) -> None:
    full, heartbeat = encode_payload(agent.full), encode_payload(agent.heartbeat)
    sent_at = dt.datetime.now(dt.timezone.utc)
    agent.envelopes = [
        encode_envelope(agent.key, agent.host_id, seq, sent_at, full if seq == 1 else heartbeat)
        for seq in range(1, reports + 1)
    ]


def expected_kind(seq: int) -> str:
    return "full" if seq == 1 else "heartbeat"


def check_ack(agent: BenchAgent, seq: int, ack: dict[str, Any]) -> str | None:
    """Why an acknowledgement does not match what was sent; None when it does."""
    if ack.get("accepted") != seq or ack.get("stored") != expected_kind(seq):
        return f"agent {agent.index} seq {seq}: unexpected acknowledgement {ack}"
    if ack.get("need_full"):
        return f"agent {agent.index} seq {seq}: the server asked for a full report"
    return None


# --- HTTP ----------------------------------------------------------------------------------


def post_all(url: str, agents: list[BenchAgent]) -> tuple[float, list[float], list[str]]:
    """Every agent posts its envelopes in seq order on its own thread and connection.
    Wall seconds from the common start to the last answer, latencies, failures."""
    import httpx

    start = threading.Barrier(len(agents) + 1)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def run(agent: BenchAgent) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=url, timeout=120) as client:
            start.wait()
            for seq, body in enumerate(agent.envelopes, start=1):
                began = time.perf_counter()
                try:
                    response = client.post(
                        "/api/v1/reports",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.HTTPError as exc:
                    problem: str | None = f"agent {agent.index} seq {seq}: {exc!r}"
                else:
                    mine.append(time.perf_counter() - began)
                    if response.status_code != 200:
                        problem = (
                            f"agent {agent.index} seq {seq}: HTTP {response.status_code} "
                            f"{response.text[:500]}"
                        )
                    else:
                        problem = check_ack(agent, seq, response.json())
                if problem:
                    with lock:
                        failures.append(problem)
                    break
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, failures


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's master and workers)."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def database_bytes(data_dir: Path, database_url: str | None) -> int:
    """Bytes the database uses: SQLite's pages in use (WAL included, free pages not),
    PostgreSQL's pg_database_size (dead rows count until autovacuum reuses them)."""
    if database_url is None:
        with sqlite3.connect(data_dir / SQLITE_FILE) as connection:
            pages, free, size = (
                connection.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("page_count", "freelist_count", "page_size")
            )
        return int((pages - free) * size)
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def stored_reports(data_dir: Path, database_url: str | None) -> dict[str, tuple[int, int]]:
    """kind -> (rows, bytes of stored envelopes), read straight from the table."""
    query = "SELECT kind, COUNT(*), SUM(LENGTH(envelope)) FROM fleet_report GROUP BY kind"
    if database_url is None:
        with sqlite3.connect(data_dir / SQLITE_FILE) as connection:
            rows = connection.execute(query).fetchall()
    else:
        import psycopg

        with psycopg.connect(database_url) as connection:
            rows = connection.execute(query).fetchall()
    return {str(kind): (int(count), int(size)) for kind, count, size in rows}


def http_run(result: Any, args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    import httpx

    with tempfile.TemporaryDirectory(prefix="custos-bench-http-") as tmp:
        data_dir = Path(tmp)
        token = prepare_server(data_dir, args.agents, database_url)
        server = start_server(data_dir, workers=2, database_url=database_url)
        try:
            agents = [make_agent(result, i, token) for i in range(args.agents)]
            with httpx.Client(base_url=server.url, timeout=60) as client:
                for agent in agents:
                    answer = client.post(
                        "/api/v1/enroll",
                        content=agent.enroll_body,
                        headers={"Content-Type": "application/json"},
                    )
                    if answer.status_code != 201:
                        fail([f"enrollment: HTTP {answer.status_code} {answer.text[:500]}"])
                    agent.host_id = answer.json()["host_id"]
            for agent in agents:
                build_envelopes(agent, args.reports)
            before = database_bytes(data_dir, database_url)
            server_cpu, client_cpu = cpu_seconds(server.process.pid), own_cpu_seconds()
            wall, latencies, failures = post_all(server.url, agents)
            server_cpu = cpu_seconds(server.process.pid) - server_cpu
            client_cpu = own_cpu_seconds() - client_cpu
            if failures:
                fail(failures, server.log_path)
            stored = stored_reports(data_dir, database_url)
            after = database_bytes(data_dir, database_url)
        finally:
            status = server.stop()
        if status != 0:
            fail([f"the server exited with status {status} on SIGTERM"], server.log_path)
        latencies.sort()
        return {
            "wall": wall,
            "accepted": args.agents * args.reports,
            "rate": args.agents * args.reports / wall,
            "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
            "full_bytes": len(agents[0].envelopes[0]),
            "heartbeat_bytes": statistics.mean(len(a.envelopes[-1]) for a in agents),
            "stored": stored,
            "database_growth": after - before,
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
        }


def fail(problems: list[str], log: Path | None = None) -> None:
    print(f"BENCHMARK FAILED: {len(problems)} problem(s)", file=sys.stderr)
    for problem in problems[:20]:
        print("  " + problem, file=sys.stderr)
    if log is not None and log.exists():
        tail = log.read_text(errors="replace").splitlines()[-40:]
        print("server log (last lines):\n" + "\n".join(tail), file=sys.stderr)
    raise SystemExit(1)


# --- floor (child process) -----------------------------------------------------------------


def floor_child(spec_path: Path) -> int:
    """In-process ingest on a fresh database; prints one JSON line."""
    spec = json.loads(spec_path.read_text())
    os.environ["DJANGO_SETTINGS_MODULE"] = "server.settings"
    os.environ["CUSTOS_DATA_DIR"] = spec["data_dir"]
    if spec["database_url"]:
        os.environ["CUSTOS_DATABASE_URL"] = spec["database_url"]
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from server.accounts.units import add_unit_path
    from server.api.enroll import parse_enrollment
    from server.fleet.enrollment import enroll
    from server.fleet.ingest import ingest
    from server.fleet.policies import add_policy
    from server.fleet.tokens import create_token

    call_command("migrate", interactive=False, verbosity=0)
    unit, _ = add_unit_path("北京市/海淀区/网信办", "cli:bench")
    add_policy(POLICY.read_bytes(), str(POLICY), unit, "cli:bench")
    _, token = create_token(unit, spec["agents"], 7, "cli:bench", "")
    result = pickle.loads(Path(spec["check"]).read_bytes())  # noqa: S301 - our own file
    agents = [make_agent(result, i, token) for i in range(spec["agents"])]
    for agent in agents:
        agent.host_id = enroll(parse_enrollment(agent.enroll_body), timezone.now()).host_id
        build_envelopes(agent, spec["reports"])
    limit = settings.CUSTOS_MAX_REPORT_BYTES
    began, cpu = time.perf_counter(), time.process_time()
    for index in range(spec["reports"]):
        for agent in agents:
            ack = ingest(agent.envelopes[index], timezone.now(), limit)
            problem = check_ack(agent, index + 1, ack.as_json())
            if problem:
                print(problem, file=sys.stderr)
                return 1
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    count = spec["agents"] * spec["reports"]
    print(json.dumps({"wall": wall, "accepted": count, "rate": count / wall, "cpu": cpu}))
    return 0


def floor_run(
    check_file: Path, args: argparse.Namespace, database_url: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="custos-bench-floor-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(
            json.dumps(
                {
                    "data_dir": str(Path(tmp) / "data"),
                    "database_url": database_url,
                    "agents": args.agents,
                    "reports": args.reports,
                    "check": str(check_file),
                }
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
        completed = subprocess.run(
            [sys.executable, __file__, "--floor-child", str(spec)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
    if completed.returncode != 0:
        fail([f"floor run exited with {completed.returncode}:\n{completed.stderr[-3000:]}"])
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


# --- PostgreSQL ----------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def drop_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# --- report --------------------------------------------------------------------------------


def kib(size: float) -> str:
    return f"{size / 1024:.1f} KiB"


def rates(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{run['rate']:.0f}" for run in runs)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["rate"])[(len(runs) - 1) // 2]


def report(
    label: str, args: argparse.Namespace, https: list[dict[str, Any]], floors: list[dict[str, Any]]
) -> None:
    http, floor = median_run(https), median_run(floors)
    # Each round's HTTP run and floor run follow each other: their ratio sees the same load.
    ratios = [h["rate"] / f["rate"] for h, f in zip(https, floors, strict=True)]
    ratio = statistics.median(ratios)
    stored = http["stored"]
    rows = sum(count for count, _ in stored.values())
    stored_bytes = sum(size for _, size in stored.values())
    heartbeat = http["heartbeat_bytes"]
    print(f"\n== {label} ==")
    print(
        f"agents x reports: {args.agents} x {args.reports} = {http['accepted']} "
        f"(per agent: 1 full of {kib(http['full_bytes'])}, {args.reports - 1} heartbeats of "
        f"{heartbeat:.0f} B; mix {1 / args.reports:.0%} full)"
    )
    print(
        f"rounds: {len(https)} (HTTP then floor, each on a fresh database); medians below; "
        f"HTTP {rates(https)}/s, floor {rates(floors)}/s"
    )
    print(
        f"HTTP  (custos-server run --workers 2): {http['rate']:8.1f} accepted/s  "
        f"({http['accepted']} in {http['wall']:.2f} s; latency p50 {http['p50_ms']:.1f} ms, "
        f"p95 {http['p95_ms']:.1f} ms)"
    )
    cores = (os.cpu_count() or 1) * http["wall"]
    print(
        f"      CPU during the run: server {http['server_cpu']:.1f} s, load generator "
        f"{http['client_cpu']:.1f} s, of {cores:.1f} core-seconds"
    )
    print(
        f"floor (in-process ingest(), 1 thread): {floor['rate']:8.1f} reports/s   "
        f"({floor['accepted']} in {floor['wall']:.2f} s)"
    )
    print(
        f"CPU per accepted report: server {1000 * http['server_cpu'] / http['accepted']:.1f} ms "
        f"(gunicorn master + workers), floor {1000 * floor['cpu'] / floor['accepted']:.1f} ms "
        f"(database server processes not counted in either)"
    )
    target = " (target >= 0.5x: " + ("met)" if ratio >= 0.5 else "NOT met)")
    print(
        f"ratio HTTP/floor: {ratio:.2f}x (median of the rounds' "
        f"{', '.join(f'{r:.2f}' for r in ratios)})" + (target if label == "SQLite" else "")
    )
    kinds = ", ".join(
        f"{kind} {count} rows / {kib(size)}" for kind, (count, size) in stored.items()
    )
    print(
        f"stored envelopes: {rows} rows, {kib(stored_bytes)} -> {kib(stored_bytes / args.agents)} "
        f"per host ({kinds})"
    )
    print(
        f"database growth during the run: {kib(http['database_growth'])} -> "
        f"{kib(http['database_growth'] / args.agents)} per host (rows, findings, indexes)"
    )
    print(
        f"steady state (nothing changes; keep the newest heartbeat + the first of each day): "
        f"{heartbeat:.0f} B of envelope per host per day (aim < 2 KB)"
    )


def run_rounds(
    result: Any, check_file: Path, args: argparse.Namespace, postgres: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """HTTP then floor, `--rounds` times, each on a fresh database: other load on the
    machine hits both sides alike."""
    https, floors = [], []
    for round_ in range(args.rounds):
        if postgres is None:
            https.append(http_run(result, args, None))
            floors.append(floor_run(check_file, args, None))
            continue
        names = [f"custos_bench_{os.getpid()}_{round_}_{side}" for side in ("http", "floor")]
        try:
            https.append(http_run(result, args, create_database(postgres, names[0])))
            floors.append(floor_run(check_file, args, create_database(postgres, names[1])))
        finally:
            for name in names:
                drop_database(postgres, name)
    return https, floors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument(
        "--reports", type=int, default=25, help="per agent: 1 full, then heartbeats"
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on fresh PostgreSQL databases")
    parser.add_argument(
        "--rounds", type=int, default=3, help="HTTP and floor alternately; medians are reported"
    )
    parser.add_argument("--floor-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        return floor_child(args.floor_child)
    if args.agents < 1 or args.reports < 2:
        parser.error("need at least 1 agent and 2 reports (a full and a heartbeat)")

    result = real_check()
    print(
        f"payload: a real check of this machine ({result.policy.id} {result.policy.version}): "
        f"{len(result.inventory.software or ())} packages, {len(result.findings)} findings; "
        f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="custos-bench-") as tmp:
        check_file = Path(tmp) / "check.pickle"
        check_file.write_bytes(pickle.dumps(result))
        runs = [run_rounds(result, check_file, args, None)]
        report("SQLite", args, *runs[0])
        if args.postgres:
            runs.append(run_rounds(result, check_file, args, args.postgres))
            report("PostgreSQL", args, *runs[1])
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (other work on the machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

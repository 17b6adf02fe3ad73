#!/usr/bin/env python3
"""Benchmark: the agent service's resident memory over many cycles (issue 3).

    python3 bench/agent_rss.py [--cycles 1000] [--breakdown]

Deployment-like: the agent runs from a virtualenv, `bench/.venv-agent`, holding only the
agent's base install (`pip install <repo>`, no extras), because the development environment
has packages (rich, click, trio, …) that httpx and friends import when they find them, and an
office PC has none of them. The venv is made once and reused; the project itself is
reinstalled into it on every run so that the current code is measured.

A real `custos-server run` (from this checkout) serves on a loopback port with a fresh SQLite
data directory, a unit and a token. The venv's `custos-agent` enrolls with its own state
directory and a config naming the bundled internet-office policy (no network probes), a
temporary directory as its only watch root and `check_interval_override: 0.05` s, then
`custos-agent run` runs until `--cycles` reports were made (the state's `seq` file). It is
stopped with SIGTERM (exit status 0 expected).

`custos-agent run` is two kinds of process (agent.supervisor): the supervisor, which stays,
and one short-lived worker per cycle (`custos-agent send --format json`). Sampled every
0.1 s (psutil and /proc): the supervisor's RSS, and each worker's peak (VmHWM, the kernel's
high-water mark, read as late in the worker's life as the sampling catches it).

Prints the supervisor's RSS after 10 cycles, after 100, at the end, the maximum, and the
slope (least squares over the samples after cycle 100, MB per 1000 cycles); the workers'
peak RSS and how long a cycle takes. Targets: steady RSS <= 35 MB, no growth. When the RSS
target is missed (or with --breakdown) it also measures where the memory goes, in the venv:
the RSS after each major import of the supervisor and of a worker, tracemalloc's view of
one check and report, and `python -X importtime`'s slowest imports.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import ROOT, prepare_server, start_server

VENV = ROOT / "bench" / ".venv-agent"
VENV_PYTHON = VENV / "bin" / "python"
VENV_AGENT = VENV / "bin" / "custos-agent"
MB = 1024 * 1024
TARGET_MB = 35.0
GROWTH_LIMIT = 0.5  # MB per 1000 cycles counted as "no growth"
INTERVAL = 0.05
SAMPLE_EVERY = 0.1


# --- the deployment-like install -----------------------------------------------------------


def pip(*args: str) -> None:
    completed = subprocess.run(
        [str(VENV_PYTHON), "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"pip {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")


def ensure_venv() -> list[str]:
    """The venv with only the agent's base install; what it holds."""
    if not VENV_PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)} (base install, no extras) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip("install", str(ROOT))
    else:
        # Reused: only the project is rebuilt, so the agent measured is the current code.
        pip("install", "--no-deps", "--force-reinstall", str(ROOT))
    pip("check")
    listed = subprocess.run(
        [
            str(VENV_PYTHON),
            "-m",
            "pip",
            "list",
            "--format=freeze",
            "--exclude",
            "pip",
            "--exclude",
            "setuptools",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return listed


def venv_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CUSTOS_", "PYTHON", "DJANGO_")) and k != "VIRTUAL_ENV"
    }
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def bundled_policy() -> Path:
    out = subprocess.run(
        [
            str(VENV_PYTHON),
            "-c",
            "import agent, pathlib; print(pathlib.Path(agent.__file__).parent)",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=venv_env(),
        cwd=tempfile.gettempdir(),
    ).stdout.strip()  # not from ROOT: `python -c` would import the checkout's agent package
    return Path(out) / "bundled_policies" / "internet-office.yaml"


# --- the run -------------------------------------------------------------------------------


def read_seq(state: Path) -> int:
    try:
        return int((state / "seq").read_text().strip() or "0")
    except (FileNotFoundError, ValueError):
        return 0


def least_squares_slope(points: list[tuple[float, float]]) -> float:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def status_kb(pid: int, field: str) -> int:
    """A /proc/PID/status field in bytes (0 once the process is gone)."""
    try:
        with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return 0


def first_at(samples: list[tuple[float, int, int]], cycles: int) -> float:
    for _, done, rss in samples:
        if done >= cycles:
            return rss / MB
    return float("nan")


def measure(cycles: int, extra_env: dict[str, str]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="custos-bench-rss-") as tmp:
        base = Path(tmp)
        data = base / "server"
        data.mkdir()
        token = prepare_server(data, 1, policy=False)
        server = start_server(data, workers=2)
        agent_process: subprocess.Popen[bytes] | None = None
        try:
            state, media = base / "agent-state", base / "media"
            media.mkdir()
            config = base / "agent.yaml"
            config.write_text(
                json.dumps(  # JSON is YAML
                    {
                        "state_dir": str(state),
                        "policy": str(bundled_policy()),
                        "watch_roots": [str(media)],
                        "check_interval_override": INTERVAL,
                        "asset": {
                            "machine_number": "BJ-2026-0417",
                            "responsible_person": "张三",
                            "department": "办公室",
                            "classification": "内部",
                            "purpose": "internet",
                        },
                    },
                    indent=2,
                )
            )
            enrolled = subprocess.run(
                [
                    str(VENV_AGENT),
                    "--config",
                    str(config),
                    "enroll",
                    "--server",
                    server.url,
                    "--token",
                    token,
                ],
                capture_output=True,
                text=True,
                env=venv_env(),
                cwd=base,
                check=False,
            )
            if enrolled.returncode != 0:
                raise SystemExit(f"enrollment failed:\n{enrolled.stdout}{enrolled.stderr}")
            agent_log = (base / "agent.log").open("wb")
            agent_process = subprocess.Popen(
                [str(VENV_AGENT), "--config", str(config), "run"],
                stdout=agent_log,
                stderr=subprocess.STDOUT,
                env={**venv_env(), **extra_env},
                cwd=base,
            )
            watched = psutil.Process(agent_process.pid)
            samples: list[tuple[float, int, int]] = []  # (seconds, cycles, supervisor rss)
            worker_peaks: dict[int, int] = {}  # pid -> the highest VmHWM seen
            together = 0  # supervisor + its worker, at the same sample
            started = time.monotonic()
            deadline = started + 60 + cycles * 3.0
            while True:
                time.sleep(SAMPLE_EVERY)
                if agent_process.poll() is not None:
                    log = (base / "agent.log").read_text(errors="replace")
                    raise SystemExit(f"the agent exited ({agent_process.returncode}):\n{log}")
                done = read_seq(state)
                supervisor_rss = watched.memory_info().rss
                samples.append((time.monotonic() - started, done, supervisor_rss))
                workers_rss = 0
                for child in watched.children():
                    rss, hwm = status_kb(child.pid, "VmRSS"), status_kb(child.pid, "VmHWM")
                    workers_rss += rss
                    worker_peaks[child.pid] = max(worker_peaks.get(child.pid, 0), hwm)
                together = max(together, supervisor_rss + workers_rss)
                if done >= cycles:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {done} cycles in {time.monotonic() - started:.0f} s")
            uss = watched.memory_full_info().uss
            maps = memory_map_summary(watched)
            threads = watched.num_threads()
            agent_process.send_signal(signal.SIGTERM)
            status = agent_process.wait(timeout=60)
            agent_log.close()
            final = read_seq(state)
            spooled = len(list((state / "spool").iterdir()))
            rejected = len(list((state / "rejected").iterdir()))
        finally:
            if agent_process is not None and agent_process.poll() is None:
                agent_process.kill()
                agent_process.wait()
            server_status = server.stop()
        with sqlite3.connect(data / "custos.sqlite3") as connection:
            accepted = connection.execute("SELECT MAX(last_seq) FROM fleet_host").fetchone()[0]
        log_tail = (base / "agent.log").read_text(errors="replace").splitlines()[-5:]
    steady = [(done, rss / MB) for _, done, rss in samples if done > 100]
    peaks = sorted(peak / MB for peak in worker_peaks.values() if peak)
    return {
        "workers_seen": len(peaks),
        "worker_peak_median": statistics.median(peaks) if peaks else float("nan"),
        "worker_peak_max": peaks[-1] if peaks else float("nan"),
        "together_max": together / MB,
        "samples": samples,
        "elapsed": samples[-1][0],
        "cycles": samples[-1][1],
        "final_seq": final,
        "accepted": accepted,
        "spooled": spooled,
        "rejected": rejected,
        "exit": status,
        "server_exit": server_status,
        "rss10": first_at(samples, 10),
        "rss100": first_at(samples, 100),
        "rss_end": samples[-1][2] / MB,
        "rss_max": max(rss for _, _, rss in samples) / MB,
        "steady_median": statistics.median(r for _, r in steady) if steady else float("nan"),
        "steady_max": max(r for _, r in steady) if steady else float("nan"),
        "slope": 1000 * least_squares_slope(steady) if len(steady) > 1 else float("nan"),
        "uss_end": uss / MB,
        "threads": threads,
        "log_tail": log_tail,
        "maps": maps,
    }


# --- where the memory goes -----------------------------------------------------------------

# Both step lists start with this: RSS and module count after each import step.
_MEASURED_STEPS = """
import pathlib, sys
import psutil
me = psutil.Process()
def rss(): return me.memory_info().rss / 1048576
def show(label, before=None):
    new = "" if before is None else f"  ({len(set(sys.modules) - before)} modules)"
    print(f"{label:52}{rss():7.1f} MB{new}")
def run_steps(steps):
    for label, code in steps:
        before = set(sys.modules)
        exec(code, globals())
        show("+ " + label, before)
show("interpreter + psutil")
"""

_SUPERVISOR_STEPS = (
    _MEASURED_STEPS
    + """
run_steps([
    ("watchdog observers (inotify)", "from watchdog.observers import Observer"),
    ("the supervisor's agent modules", "import agent.commands.run"),
])
import tempfile
from agent.platforms import current_platform
from agent.triggers import TriggerHub, start_triggers
before = set(sys.modules)
triggers = start_triggers(TriggerHub(), current_platform(), [pathlib.Path(tempfile.gettempdir())])
show("+ the watchers started (threads, inotify, netlink)", before)
triggers.stop()
"""
)

_WORKER_STEPS = (
    _MEASURED_STEPS
    + """
run_steps([
    ("yaml", "import yaml"),
    ("cryptography (Ed25519, serialization)",
     "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey; "
     "from cryptography.hazmat.primitives import serialization"),
    ("jsonschema (+ referencing, rpds, attrs)", "import jsonschema"),
    ("httpx (+ ssl, idna, email, http)", "import httpx"),
    ("the worker's agent modules", "import agent.commands.send, agent.service"),
])
import datetime as dt, gc
from agent.transport import Transport
before = set(sys.modules)
transport = Transport("http://127.0.0.1:9")
show("+ Transport (httpx.Client; default SSL context)", before)
from agent.checking import run_check
from agent.facts import AssetFields
from agent.platforms import current_platform
from agent.policy.loader import load_policy_bytes
from agent.reporting import build_report, encode_report
from agent.state import Delivery
path = pathlib.Path(sys.argv[1])
before = set(sys.modules)
policy = load_policy_bytes(path.read_bytes(), str(path))
show("+ the policy loaded and validated", before)
asset = AssetFields("BJ-2026-0417", "张三", "办公室", "内部", "internet")
key = Ed25519PrivateKey.generate()
platform = current_platform()
for i in range(1, 6):
    before = set(sys.modules)
    result = run_check(policy, platform, asset, whole_inventory=True)
    report = build_report(result, "schedule", Delivery())
    body = encode_report(report, key, "h_" + "0" * 32, i, dt.datetime.now(dt.timezone.utc))
    del result, report, body
    gc.collect()
    show(f"+ check + full report #{i} (freed afterwards)", before)
"""
)

_WORKING_SET = """
import datetime as dt, pathlib, sys, tracemalloc
from agent.checking import run_check
from agent.facts import AssetFields
from agent.platforms import current_platform
from agent.policy.loader import load_policy_bytes
from agent.reporting import build_report, encode_report
from agent.state import Delivery
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
path = pathlib.Path(sys.argv[1])
policy = load_policy_bytes(path.read_bytes(), str(path))
asset = AssetFields("BJ-2026-0417", "张三", "办公室", "内部", "internet")
key = Ed25519PrivateKey.generate()
platform = current_platform()
run_check(policy, platform, asset, whole_inventory=True)  # warm: caches, lazy imports
tracemalloc.start(1)
result = run_check(policy, platform, asset, whole_inventory=True)
report = build_report(result, "schedule", Delivery())
body = encode_report(report, key, "h_" + "0" * 32, 1, dt.datetime.now(dt.timezone.utc))
held, peak = tracemalloc.get_traced_memory()
print(f"one cycle's Python objects (tracemalloc): peak {peak / 1048576:.1f} MB while "
      f"checking and encoding, {held / 1048576:.1f} MB held by its result, report and "
      f"the {len(body) / 1024:.0f} KiB envelope")
"""


_MAPS_TOP = 10


def memory_map_summary(process: psutil.Process) -> list[str]:
    """The supervisor's RSS by mapping: anonymous memory (the heaps) against each file."""
    sizes: dict[str, int] = {}
    for region in process.memory_maps(grouped=True):
        path = region.path
        if not path or path.startswith("["):
            name = "anonymous (malloc arenas, Python heap, stacks)"
        elif "site-packages" in path:
            name = path.split("site-packages/", 1)[1]
        else:
            name = path
        sizes[name] = sizes.get(name, 0) + region.rss
    total = sum(sizes.values())
    lines = [f"supervisor's RSS by mapping ({total / MB:.1f} MB in all, top {_MAPS_TOP}):"]
    lines += [
        f"  {name[-60:]:62}{size / MB:6.1f} MB"
        for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:_MAPS_TOP]
    ]
    return lines


def run_in_venv(code: str, *args: str) -> str:
    completed = subprocess.run(
        [str(VENV_PYTHON), "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=venv_env(),
        cwd=tempfile.gettempdir(),
        check=False,
    )
    if completed.returncode != 0:
        return f"(failed: {completed.stderr[-2000:]})"
    return completed.stdout.rstrip()


def importtime_top(label: str, statement: str, count: int = 8) -> str:
    completed = subprocess.run(
        [str(VENV_PYTHON), "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        env=venv_env(),
        cwd=tempfile.gettempdir(),
        check=False,
    )
    total = 0
    packages: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split(":", 1)[1].split("|")
        if not name[1:].startswith(" "):  # imported at top level by the -c statement
            total += int(cumulative)
        package = name.strip()
        # A package's first import, at whatever depth: its cost includes what it imports.
        if "." not in package and package not in ("agent", "encodings", "site"):
            packages[package] = max(packages.get(package, 0), int(cumulative))
    rows = sorted(packages.items(), key=lambda kv: -kv[1])[:count]
    lines = [
        f"python -X importtime: {label}'s imports take {total / 1000:.0f} ms; the "
        f"heaviest packages (cumulative, nested ones counted in their importer too):"
    ]
    lines += [f"  {name:30}{us / 1000:7.1f} ms" for name, us in rows]
    return "\n".join(lines)


def breakdown(policy: Path, maps: list[str]) -> None:
    print("\n-- where the memory goes (in the venv) --")
    print("RSS of a process doing what the supervisor does, step by step (cumulative):")
    print(textwrap.indent(run_in_venv(_SUPERVISOR_STEPS), "  "))
    print("RSS of a process doing what a worker does, step by step (cumulative):")
    print(textwrap.indent(run_in_venv(_WORKER_STEPS, str(policy)), "  "))
    print(run_in_venv(_WORKING_SET, str(policy)))
    print("\n".join(maps))
    print(importtime_top("the supervisor", "import agent.commands.run"))
    print(importtime_top("a worker", "import agent.commands.send, agent.checking"))


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--breakdown", action="store_true", help="always measure where it goes")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of `custos-agent run` only (e.g. MALLOC_ARENA_MAX=2); repeatable",
    )
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    if args.cycles < 101:
        parser.error("--cycles: at least 101 (the slope is fitted after cycle 100)")
    installed = ensure_venv()
    print(f"{VENV.relative_to(ROOT)}: {' '.join(installed)}")
    found = subprocess.run(
        [
            str(VENV_PYTHON),
            "-c",
            "import importlib.util as u; print(' '.join(m for m in ('rich','click','trio','django',"
            "'h2','brotli','socksio','zstandard') if u.find_spec(m)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=venv_env(),
        cwd=tempfile.gettempdir(),
    ).stdout.strip()
    print(f"optional packages importable in the venv: {found or 'none'}")
    if extra_env:
        print(f"agent environment: {' '.join(args.env)}")
    result = measure(args.cycles, extra_env)
    print(
        f"\ncycles: {result['cycles']} in {result['elapsed']:.0f} s "
        f"({result['cycles'] / result['elapsed']:.1f}/s; interval override {INTERVAL} s); "
        f"server accepted up to seq {result['accepted']} of {result['final_seq']}; "
        f"spool {result['spooled']}, rejected {result['rejected']}; "
        f"agent exit on SIGTERM: {result['exit']}; server exit: {result['server_exit']}"
    )
    print("supervisor (the process that stays):")
    print(f"  RSS after 10 cycles : {result['rss10']:6.1f} MB")
    print(f"  RSS after 100 cycles: {result['rss100']:6.1f} MB")
    print(
        f"  RSS at the end      : {result['rss_end']:6.1f} MB  (USS {result['uss_end']:.1f} MB, "
        f"{result['threads']} threads)"
    )
    print(f"  RSS max             : {result['rss_max']:6.1f} MB")
    print(
        f"  after cycle 100     : median {result['steady_median']:.1f} MB, "
        f"max {result['steady_max']:.1f} MB"
    )
    print(f"  slope after cycle 100: {result['slope']:+.3f} MB per 1000 cycles (least squares)")
    cycle_seconds = float(result["elapsed"]) / int(result["cycles"])  # type: ignore[call-overload]
    print(
        f"workers (one per cycle, {result['workers_seen']} sampled): peak RSS median "
        f"{result['worker_peak_median']:.1f} MB, max {result['worker_peak_max']:.1f} MB; "
        f"a cycle every {cycle_seconds:.2f} s ({INTERVAL} s of it the interval)"
    )
    print(f"supervisor + worker together, max: {result['together_max']:.1f} MB")
    steady = float(result["steady_max"])  # type: ignore[arg-type]
    slope = float(result["slope"])  # type: ignore[arg-type]
    rss_ok, growth_ok = steady <= TARGET_MB, abs(slope) <= GROWTH_LIMIT
    print(
        f"targets: steady RSS <= {TARGET_MB:.0f} MB: "
        + ("met" if rss_ok else f"NOT met, by {steady - TARGET_MB:.1f} MB")
        + f"; no growth (|slope| <= {GROWTH_LIMIT} MB/1000 cycles): "
        + ("met" if growth_ok else "NOT met")
    )
    # A report made just before SIGTERM may stay spooled (delivered at the next start).
    ok = (
        result["exit"] == 0
        and result["rejected"] == 0
        and int(result["accepted"]) + int(result["spooled"]) >= int(result["final_seq"])  # type: ignore[call-overload]
    )
    if not ok:
        print("agent log (last lines):\n" + "\n".join(result["log_tail"]))  # type: ignore[arg-type]
    if args.breakdown or not rss_ok:
        breakdown(bundled_policy(), result["maps"])  # type: ignore[arg-type]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

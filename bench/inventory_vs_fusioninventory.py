#!/usr/bin/env python3
"""Benchmark: `custos-agent inventory` against `fusioninventory-inventory` on this machine.

Both run as separate processes, alternating, several rounds, after one warm-up each, so that
disk cache and CPU frequency treat them alike. For each it prints the median wall time and the
median peak RSS (ru_maxrss of the process, from wait4) and Custos' ratio to FusionInventory.
Targets (issue 2): wall time <= 0.35x, peak RSS <= 0.65x.

    python3 bench/inventory_vs_fusioninventory.py [--rounds 7]

Installs Debian's `fusioninventory-agent` when it is missing (needs root and apt).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_fusioninventory() -> str:
    found = shutil.which("fusioninventory-inventory")
    if found:
        return found
    print("installing Debian package fusioninventory-agent ...", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "fusioninventory-agent"],
        check=True,
        env=env,
    )
    # The package enables a daemon; the benchmark only wants the one-shot command.
    subprocess.run(
        ["systemctl", "disable", "--now", "fusioninventory-agent"], check=False, capture_output=True
    )
    found = shutil.which("fusioninventory-inventory")
    if not found:
        raise SystemExit("fusioninventory-inventory not found after installing the package")
    return found


def custos_command() -> list[str]:
    entry = shutil.which("custos-agent")
    if entry:
        return [entry, "inventory", "--format", "json"]
    return [sys.executable, "-m", "agent", "inventory", "--format", "json"]


def measure(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS in KiB of one run; its output is discarded."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    commands = {
        "custos": custos_command(),
        "fusioninventory": [ensure_fusioninventory()],
    }
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for argv in commands.values():
        measure(argv)  # warm-up: page cache, Perl and Python bytecode
    for _ in range(args.rounds):
        for name, argv in commands.items():
            runs[name].append(measure(argv))
    medians = {
        name: (statistics.median(t for t, _ in r), statistics.median(m for _, m in r))
        for name, r in runs.items()
    }
    print(f"rounds: {args.rounds} (alternating, after one warm-up each), cpus: {os.cpu_count()}")
    print(f"{'':18}{'median wall s':>15}{'median peak RSS MiB':>22}")
    for name, (wall, rss) in medians.items():
        print(f"{name:18}{wall:>15.3f}{rss / 1024:>22.1f}")
    (c_wall, c_rss), (f_wall, f_rss) = medians["custos"], medians["fusioninventory"]
    wall_ratio, rss_ratio = c_wall / f_wall, c_rss / f_rss
    print(f"{'ratio custos/fi':18}{wall_ratio:>15.2f}x{rss_ratio:>21.2f}x")
    print(
        f"targets: wall <= 0.35x ({'met' if wall_ratio <= 0.35 else 'NOT met'}), "
        f"peak RSS <= 0.65x ({'met' if rss_ratio <= 0.65 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

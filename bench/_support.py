"""What both server-facing benchmarks need: a real `custos-server` on a loopback port.

`custos-server …` is run as `python -m server …` from this checkout (the same entry point),
with its own data directory and no CUSTOS_* variable inherited, so a benchmark never touches
another installation's data.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]
UNIT = "北京市/海淀区/网信办"
POLICY = ROOT / "policies" / "internet-office.yaml"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["CUSTOS_DATA_DIR"] = str(data_dir)
    if database_url:
        env["CUSTOS_DATABASE_URL"] = database_url
    return env


def custos_server(
    data_dir: Path, *args: str, database_url: str | None = None, timeout: float = 300
) -> str:
    """Run one `custos-server` command; its standard output. A failure ends the benchmark."""
    completed = subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env=server_env(data_dir, database_url),
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(
            f"custos-server {' '.join(args)} exited with {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )
    return completed.stdout


def prepare_server(
    data_dir: Path, token_uses: int, database_url: str | None = None, policy: bool = True
) -> str:
    """Migrate a fresh database, add the unit (and its policy); an enrollment token."""
    custos_server(data_dir, "migrate", database_url=database_url)
    custos_server(data_dir, "unit", "add", UNIT, database_url=database_url)
    if policy:
        custos_server(
            data_dir, "policy", "add", str(POLICY), "--unit", UNIT, database_url=database_url
        )
    out = custos_server(
        data_dir,
        "token",
        "create",
        "--unit",
        UNIT,
        "--uses",
        str(token_uses),
        database_url=database_url,
    )
    return out.strip().splitlines()[-1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    log: IO[bytes]

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit status (0 expected)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return int(self.process.returncode)


def start_server(data_dir: Path, workers: int = 2, database_url: str | None = None) -> Server:
    """`custos-server run --host 127.0.0.1 --port P --workers N`, ready when /healthz answers.
    Its output (access log included) goes to server.log in the data directory."""
    port = free_port()
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=server_env(data_dir, database_url),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return Server(process, url, log_path, log)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            process.wait()
            log.close()
            raise SystemExit(f"the server did not come up:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.1)

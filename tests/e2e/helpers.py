"""End-to-end helpers: a real `custos-server run`, real `custos-agent` processes, and the
server's database read from the test process.

The database is read with `sqlite3` or `psycopg` directly, never through Django: when the
whole suite runs, Django in the test process is configured for the server tests' own
database, not for the one the server processes here write to.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.protocol.canonical import sha256_hex
from agent.protocol.envelope import Envelope, decode_envelope, verify_envelope
from tests.conftest import agent_argv, agent_env
from tests.server.processes import ROOT, server_argv, server_env

UNIT = "浙江省/杭州市/西湖区/端到端测试办"

# Probe-free and collector-light: a check sends nothing anywhere and both rules pass.
E2E_POLICY = """\
id: e2e-test
version: "1"
title: {zh: 端到端测试, en: End-to-end test}
schedule: {interval: 1h, jitter: 0s}
asset:
  - id: asset-number
    severity: medium
    title: {zh: 资产编号, en: Asset number}
    required_fields: [machine_number]
  - id: asset-person
    severity: medium
    title: {zh: 责任人, en: Responsible person}
    required_fields: [responsible_person]
"""

SPOOL_NAME = re.compile(r"^(\d{20})-(full|heartbeat)-(fail|ok)\.json$")
SERVER_START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, condition: Callable[[], bool], timeout: float, every: float = 0.05) -> None:
    """Poll `condition` until it holds; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def read_log(path: Path, last: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-last:]
    except FileNotFoundError:
        return ""


# --- the server's database ------------------------------------------------------------------


@dataclass(frozen=True)
class StoredReport:
    seq: int
    kind: str
    trigger: str
    envelope: bytes


class ServerDatabase:
    """What a server process stored: its SQLite file, or the PostgreSQL database of `url`."""

    def __init__(self, data_dir: Path, url: str | None) -> None:
        self.sqlite_path = data_dir / "custos.sqlite3"
        self.url = url

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """`sql` with `?` placeholders, for either database."""
        if self.url is None:
            with contextlib.closing(sqlite3.connect(self.sqlite_path, timeout=30)) as db:
                return list(db.execute(sql, params).fetchall())
        import psycopg

        with psycopg.connect(self.url) as db:
            return list(db.execute(sql.replace("?", "%s"), params).fetchall())

    def reports(self, host_id: str) -> list[StoredReport]:
        """The host's reports in the order the server received them."""
        found = self.rows(
            'SELECT r.seq, r.kind, r."trigger", r.envelope FROM fleet_report r '
            "JOIN fleet_host h ON r.host_id = h.id WHERE h.host_id = ? "
            "ORDER BY r.received_at, r.id",
            host_id,
        )
        return [StoredReport(int(s), str(k), str(t), bytes(e)) for s, k, t, e in found]

    def host_unit(self, host_id: str) -> str | None:
        found = self.rows(
            "SELECT u.path FROM fleet_host h JOIN accounts_unit u ON h.unit_id = u.id "
            "WHERE h.host_id = ?",
            host_id,
        )
        return str(found[0][0]) if found else None

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608 - fixed names


# --- the server process ---------------------------------------------------------------------


_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def _healthy(url: str) -> bool:
    """Whether /healthz answers 200. urllib, not httpx: httpx logs each request, and when the
    whole suite runs, an earlier test may have left logging writing to a closed stream."""
    try:
        with _LOOPBACK.open(url + "/healthz", timeout=1) as answer:
            return int(answer.status) == 200
    except (OSError, http.client.HTTPException):  # refused or cut off while starting
        return False


class ServerProcess:
    """`custos-server run` (2 workers) on a fixed loopback port, stopped and started at will;
    its CLI on the same data directory and database."""

    def __init__(self, data: Path, database_url: str | None, port: int) -> None:
        self.data = data
        self.database_url = database_url
        self.port = port
        self.log = data.parent / f"{data.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.database = ServerDatabase(data, database_url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _extra(self) -> dict[str, str]:
        return {} if self.database_url is None else {"CUSTOS_DATABASE_URL": self.database_url}

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            server_argv(*args),
            input=stdin,
            capture_output=True,
            text=True,
            env=server_env(self.data, **self._extra()),
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, f"custos-server {' '.join(args)}:\n{completed.stderr}"
        return completed

    def prepare(self) -> None:
        self.cli("migrate")
        self.cli("unit", "add", UNIT)

    def token(self, uses: int) -> str:
        return self.cli("token", "create", "--unit", UNIT, "--uses", str(uses)).stdout.strip()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> float:
        """Start and wait until /healthz answers; the seconds that took."""
        assert not self.running()
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                server_argv(
                    "run", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2"
                ),
                env=server_env(self.data, **self._extra()),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = started + SERVER_START_SECONDS
        while True:
            if _healthy(self.url):
                return time.monotonic() - started
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the server did not come up:\n{read_log(self.log)}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; it must exit 0."""
        process = self.process
        assert process is not None and process.poll() is None
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=30)
        self.process = None
        assert status == 0, read_log(self.log)

    def kill(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)


# --- agent processes -------------------------------------------------------------------------


class AgentProcess:
    """One agent with its own config, state directory and mount root, run as processes."""

    def __init__(self, root: Path, name: str, policy: Path) -> None:
        self.name = name
        self.root = root / name
        self.root.mkdir(parents=True)
        self.config = self.root / "agent.yaml"
        self.state = self.root / "state"
        self.watch_root = self.root / "media"
        self.watch_root.mkdir()
        self.policy = policy
        self.log = self.root / "run.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.host_id = ""
        self.write_config()

    def write_config(self, interval: float = 3600) -> None:
        self.config.write_text(
            f"state_dir: {self.state}\n"
            f"policy: {self.policy}\n"
            f"watch_roots: [{self.watch_root}]\n"
            f"check_interval_override: {interval}\n"
            "spool_max_bytes: 1000000000\n"  # nothing is dropped for space in these tests
            "asset:\n"
            f"  machine_number: E2E-{self.name}\n"
            "  responsible_person: 李四\n"
            "  department: 端到端测试办\n"
            "  classification: 内部\n"
            "  purpose: intranet\n",
            encoding="utf-8",
        )

    def argv(self, *args: str) -> list[str]:
        return agent_argv("--config", str(self.config), *args)

    def hold_server_policy(self, yaml_text: str, version: str = "1") -> None:
        """Run on a server-assigned policy already held (state dir policy.yaml), with no
        local policy in the config: what a deployed agent looks like. The text is stored as
        it is, unchecked, as an older agent could have accepted it."""
        self.config.write_text(
            self.config.read_text(encoding="utf-8").replace(f"policy: {self.policy}\n", ""),
            encoding="utf-8",
        )
        self.state.mkdir(parents=True, exist_ok=True)
        data = yaml_text.encode("utf-8")
        (self.state / "policy.yaml").write_bytes(data)
        policy_id = re.search(r"^id: (\S+)$", yaml_text, re.MULTILINE)
        assert policy_id is not None
        info = {"id": policy_id.group(1), "version": version, "sha256": sha256_hex(data)}
        (self.state / "policy.json").write_text(json.dumps(info), encoding="utf-8")

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            env=agent_env(),
            cwd=ROOT,
            timeout=timeout,
            check=False,
        )

    def enroll_argv(self, url: str, token: str) -> list[str]:
        # `--token=…`: one token in 64 begins with "-" (secrets.token_urlsafe), which
        # argparse would take for an option in `--token TOKEN`.
        return ["enroll", "--server", url, f"--token={token}"]

    def enroll(self, url: str, token: str) -> str:
        completed = self.cli(*self.enroll_argv(url, token))
        assert completed.returncode == 0, completed.stderr
        self.host_id = completed.stdout.strip()
        return self.host_id

    def status(self) -> dict[str, Any]:
        completed = self.cli("status", "--format", "json")
        assert completed.returncode == 0, completed.stderr
        document: dict[str, Any] = json.loads(completed.stdout)
        return document

    def seq(self) -> int:
        """The last seq this agent allocated (its `seq` file); 0 before the first."""
        try:
            return int((self.state / "seq").read_text(encoding="ascii").strip())
        except FileNotFoundError:
            return 0

    def spool_files(self) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for path in sorted((self.state / "spool").iterdir()):
            if SPOOL_NAME.match(path.name):
                with contextlib.suppress(FileNotFoundError):
                    found[path.name] = path.read_bytes()
        return found

    def public_key(self) -> bytes:
        key = serialization.load_pem_private_key(
            (self.state / "agent_key.pem").read_bytes(), password=None
        )
        assert isinstance(key, Ed25519PrivateKey)
        return key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def verified(self, body: bytes) -> Envelope:
        """The envelope `body`, checked to be this agent's, signed with its key."""
        envelope = decode_envelope(body)
        verify_envelope(envelope, self.public_key())
        assert envelope.host_id == self.host_id
        return envelope

    # --- `custos-agent run` ---

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log.open("ab") as log:
            # A session of its own: a kill -9 hits the supervisor and its worker together.
            self.process = subprocess.Popen(
                self.argv("run"),
                env=agent_env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill9(self) -> None:
        process, self.process = self.process, None
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)  # the service and the cycle's worker
        assert process.wait(timeout=30) == -signal.SIGKILL

    def terminate(self) -> None:
        """SIGTERM: the service finishes its step and exits 0."""
        process, self.process = self.process, None
        assert process is not None and process.poll() is None, read_log(self.log)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, read_log(self.log)

    def cleanup(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


# --- watching spools across kills ------------------------------------------------------------


@dataclass
class SpoolSightings:
    """What one agent's state directory was seen to hold while the watcher ran."""

    bodies: dict[int, bytes] = field(default_factory=dict)  # seq -> the spool file's bytes
    names: dict[int, str] = field(default_factory=dict)  # seq -> spool file name
    seq_values: set[int] = field(default_factory=set)  # values read from the seq file
    set_aside: set[str] = field(default_factory=set)  # anything in quarantine/ or rejected/


class SpoolWatcher:
    """Polls the agents' spools in a thread and remembers every report file it ever saw
    (name and bytes: a spool file appears by an atomic rename, so its bytes are final)."""

    def __init__(self, agents: Iterable[AgentProcess], every: float = 0.005) -> None:
        self.agents = list(agents)
        self.sightings = {agent.name: SpoolSightings() for agent in self.agents}
        self.every = every
        self._stop = threading.Event()
        self._lock = threading.Lock()  # sightings change in the watcher's thread
        self._thread = threading.Thread(target=self._run, name="spool-watcher", daemon=True)

    def __enter__(self) -> SpoolWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.look()  # a last look, after every writer stopped

    def _run(self) -> None:
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self.every)

    def highest_spooled(self, agent: AgentProcess) -> int:
        with self._lock:
            return max(self.sightings[agent.name].bodies, default=0)

    def look(self) -> None:
        with self._lock:
            self._look()

    def _look(self) -> None:
        for agent in self.agents:
            seen = self.sightings[agent.name]
            for name in _names(agent.state / "spool"):
                match = SPOOL_NAME.match(name)
                if match is None:
                    continue
                seq = int(match.group(1))
                if seq not in seen.bodies:
                    with contextlib.suppress(FileNotFoundError):
                        seen.bodies[seq] = (agent.state / "spool" / name).read_bytes()
                        seen.names[seq] = name
            for directory in ("quarantine", "rejected"):
                seen.set_aside.update(f"{directory}/{n}" for n in _names(agent.state / directory))
            seen.seq_values.add(agent.seq())


def _names(directory: Path) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return [entry.name for entry in entries]
    except FileNotFoundError:
        return []

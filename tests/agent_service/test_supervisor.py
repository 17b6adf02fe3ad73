"""`custos-agent run` as it is deployed: a supervisor process that keeps the watchers and the
schedule, and a worker process (`custos-agent send --format json`) per cycle.

The worker's contract (argv in, one JSON object and an exit status out) is tested with the
real worker against a loopback server; what the supervisor does with a worker that stops
late, hangs, crashes or prints nonsense is tested with small stand-in programs, because a
real check cannot be made to hang on purpose."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from agent.pacing import Backoff
from agent.supervisor import (
    ServiceLoop,
    WorkerError,
    WorkerResult,
    WorkerRunner,
    worker_command,
)
from agent.triggers import TriggerHub
from tests.agent_service.fakeserver import FakeServer
from tests.agent_service.helpers import AgentSetup, call_cli
from tests.conftest import ROOT, agent_argv, agent_env

NEVER = lambda: False  # noqa: E731 - a should_stop that never asks


def triggers_of(server: FakeServer) -> list[str]:
    return [r.payload["trigger"] for r in server.state.reports]


def stand_in(code: str) -> list[str]:
    """A worker command that runs `code` instead of a check (options are appended to it)."""
    return [sys.executable, "-c", code]


RESULT = json.dumps(
    {"delivered": 1, "rejected": 0, "remaining": 0, "failed": False, "failure": "",
     "schedule": {"interval_seconds": 600.0, "jitter_seconds": 60.0}}
)  # fmt: skip


# --- the real worker ---------------------------------------------------------------------------


def test_worker_command_names_this_interpreter_config_and_state(enrolled: AgentSetup) -> None:
    command = worker_command(enrolled.config(), verbose=True)
    assert command[0] == sys.executable
    assert command[command.index("-m") + 1] == "agent"
    assert command[command.index("--state-dir") + 1] == str(enrolled.state_dir.absolute())
    assert command[command.index("--config") + 1] == str(enrolled.config_path.absolute())
    assert command[-4:] == ["-v", "send", "--format", "json"]


def test_real_workers_check_deliver_and_flush(
    enrolled: AgentSetup, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    runner = WorkerRunner(enrolled.config())
    result = runner.cycle("media", NEVER)
    assert (result.delivered, result.remaining, result.failed) == (1, 0, False)
    assert result.schedule == (3600.0, 0.0)  # SERVICE_POLICY's 1h, no jitter
    assert triggers_of(server) == ["media"]

    with server.lock:
        server.state.fail_reports = 10**6
    result = runner.cycle("schedule", NEVER)
    assert result.failed and result.remaining == 1 and "503" in result.failure
    with server.lock:
        server.state.fail_reports = 0
    result = runner.flush(NEVER)  # --no-check: delivers what waits, checks nothing
    assert (result.delivered, result.remaining, result.failed) == (1, 0, False)
    assert triggers_of(server) == ["media", "schedule"]


def test_send_json_is_what_the_supervisor_reads(enrolled: AgentSetup, server: FakeServer) -> None:
    status, out, _ = call_cli(*enrolled.args("send", "--trigger", "network", "--format", "json"))
    assert status == 0
    result = WorkerResult.parse(out)
    assert (result.delivered, result.remaining, result.schedule) == (1, 0, (3600.0, 0.0))
    status, out, _ = call_cli(*enrolled.args("send", "--no-check", "--format", "json"))
    assert status == 0 and json.loads(out)["delivered"] == 0
    assert triggers_of(server) == ["network"]


# --- what the supervisor does with a worker ----------------------------------------------------


def test_a_stop_is_passed_on_and_the_worker_finishes_its_step(enrolled: AgentSetup) -> None:
    code = (
        "import signal, sys, time\n"
        "def done(*_):\n"
        f"    print({RESULT!r}); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, done)\n"
        "print('ready', file=sys.stderr, flush=True)\n"
        "time.sleep(60)\n"
    )
    runner = WorkerRunner(enrolled.config(), command=stand_in(code))
    asked = threading.Event()
    threading.Timer(1.0, asked.set).start()
    started = time.monotonic()
    result = runner.cycle("schedule", asked.is_set)
    assert time.monotonic() - started < 10
    assert result.delivered == 1 and result.schedule == (600.0, 60.0)


def test_a_worker_that_ignores_the_stop_is_killed_after_the_grace(enrolled: AgentSetup) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)\n"
    runner = WorkerRunner(enrolled.config(), command=stand_in(code), stop_grace=1.0)
    started = time.monotonic()
    with pytest.raises(WorkerError, match="did not stop when asked"):
        runner.cycle("schedule", lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 10


def test_a_hung_worker_is_killed_after_its_timeout(enrolled: AgentSetup) -> None:
    runner = WorkerRunner(enrolled.config(), command=stand_in("import time; time.sleep(60)"))
    runner.timeout = 1.0
    started = time.monotonic()
    with pytest.raises(WorkerError, match="overran"):
        runner.flush(NEVER)
    assert time.monotonic() - started < 10
    assert not [p for p in psutil.Process().children() if "time.sleep(60)" in p.cmdline()]


# Like the real worker: SIGTERM only sets a flag, read between steps. Stuck in `re`, the
# handler runs but the match goes on: the process ignores SIGTERM in effect.
SPINS_IN_A_REGEX = (
    "import re, signal, sys\n"
    "from pathlib import Path\n"
    "def asked(*_):\n"
    "    Path(sys.argv[1]).write_text('asked')\n"
    "signal.signal(signal.SIGTERM, asked)\n"
    "re.match(r'^(\\S*?-?)*\\d$', 'a' * 40 + 'x')\n"
)


def test_an_overrunning_worker_gets_sigterm_first_then_sigkill_after_a_short_grace(
    enrolled: AgentSetup, tmp_path: Path
) -> None:
    asked = tmp_path / "asked"
    code = (
        "import signal, sys, time\n"
        "from pathlib import Path\n"
        "signal.signal(signal.SIGTERM, lambda *_: Path(sys.argv[1]).write_text('asked'))\n"
        "time.sleep(60)\n"
        "time.sleep(60)\n"
    )
    runner = WorkerRunner(enrolled.config(), command=[*stand_in(code), str(asked)], timeout=1.0)
    runner.kill_grace = 1.0
    started = time.monotonic()

    with pytest.raises(WorkerError, match="overran"):
        runner.flush(NEVER)

    assert asked.read_text() == "asked"  # SIGTERM came first
    assert time.monotonic() - started < 10
    assert not [p for p in psutil.Process().children() if "time.sleep(60)" in p.cmdline()]


def test_the_service_stops_while_its_worker_spins_in_a_regex(
    enrolled: AgentSetup, tmp_path: Path
) -> None:
    asked = tmp_path / "asked"
    hub = TriggerHub()
    runner = WorkerRunner(enrolled.config(), command=[*stand_in(SPINS_IN_A_REGEX), str(asked)])
    loop = ServiceLoop(runner, hub)
    threading.Timer(1.0, hub.request_stop).start()
    started = time.monotonic()

    assert loop.run() == 0

    assert time.monotonic() - started < 15  # the default grace, not the regex's centuries
    assert asked.exists()  # it was asked; its handler ran, and the regex went on
    assert not [p for p in psutil.Process().children() if "re.match" in " ".join(p.cmdline())]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import sys; sys.exit(3)", "exited with status 3"),
        ("print('not json')", "printed no result"),
        ("print('{\"delivered\": 1}')", "printed no result"),
    ],
)
def test_a_broken_worker_is_an_error_with_its_reason(
    enrolled: AgentSetup, code: str, message: str
) -> None:
    runner = WorkerRunner(enrolled.config(), command=stand_in(code))
    with pytest.raises(WorkerError, match=message):
        runner.cycle("schedule", NEVER)


def test_a_crashing_worker_costs_a_cycle_not_the_service(enrolled: AgentSetup) -> None:
    """After start-up, every failed cycle is backed off from and the next one still runs."""
    runner = WorkerRunner(enrolled.config(), command=stand_in("import sys; sys.exit(2)"))
    hub = TriggerHub(debounce=0.05)
    loop = ServiceLoop(runner, hub, backoff=Backoff(base=0.1, cap=0.2))
    loop.cycles = 1  # past start-up, where status 2 would end the service
    outcome: list[int] = []
    thread = threading.Thread(target=lambda: outcome.append(loop.run()))
    thread.start()
    for _ in range(3):
        time.sleep(0.4)
        hub.post("media")
    deadline = time.monotonic() + 20
    while loop.cycles < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.request_stop()
    thread.join(timeout=20)
    assert outcome == [0] and loop.cycles >= 4 and loop.backoff.failures >= 3


def test_the_schedule_comes_from_the_last_worker(enrolled: AgentSetup) -> None:
    runner = WorkerRunner(enrolled.config(), command=stand_in(f"print({RESULT!r})"))
    rng = random.Random(7)
    assert runner.schedule_delay(rng) == 3600  # the config's override (helpers.write_config)
    enrolled.config_path.write_text(
        enrolled.config_path.read_text().replace("check_interval_override: 3600\n", "")
    )
    runner = WorkerRunner(enrolled.config(), command=stand_in(f"print({RESULT!r})"))
    assert runner.schedule_delay(rng) == 3600  # nothing known yet: the fallback
    runner.cycle("startup", NEVER)
    assert all(600 <= runner.schedule_delay(rng) <= 660 for _ in range(50))


# --- the real `custos-agent run` -------------------------------------------------------------


def run_until_it_exits(setup: AgentSetup) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        agent_argv(*setup.args("run")),
        capture_output=True,
        text=True,
        env=agent_env(),
        timeout=60,
        check=False,
    )


def test_run_without_enrollment_exits_2(setup: AgentSetup) -> None:
    completed = run_until_it_exits(setup)
    assert completed.returncode == 2 and "not enrolled" in completed.stderr


def test_run_with_a_broken_policy_exits_2_naming_it(enrolled: AgentSetup) -> None:
    text = enrolled.policy_path.read_text(encoding="utf-8")
    line = text[: text.index("schedule:")].count("\n") + 1
    enrolled.policy_path.write_text(text.replace("interval: 1h", "interval: soon"), "utf-8")
    completed = run_until_it_exits(enrolled)
    assert completed.returncode == 2, completed.stderr
    assert f"{enrolled.policy_path}:{line}: schedule.interval" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_process_reports_reacts_and_stops_cleanly(
    enrolled: AgentSetup, server: FakeServer, signum: signal.Signals
) -> None:
    with subprocess.Popen(
        agent_argv(*enrolled.args("run")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=agent_env(),
    ) as process:
        try:
            assert len(server.wait_for_reports(1, timeout=30)) == 1, "no startup report"
            time.sleep(0.3)  # let the watchers settle in after the first cycle
            (enrolled.watch_root / "SANDISK").mkdir()
            # The schedule is an hour away: a second report can only be the mount's doing.
            # How fast it comes is bench/'s business (a worker's start-up is seconds on a
            # loaded CI machine), not a timed assertion here.
            assert len(server.wait_for_reports(2, timeout=60)) == 2
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert triggers_of(server) == ["startup", "media"]
    status, out, _ = call_cli(*enrolled.args("status"))
    assert status == 0 and '"spool": 0' in out and '"last_ack_seq": 2' in out


# Loaded only by a process that checks, signs or sends: the crypto library's Rust core,
# OpenSSL (hashlib, and the TLS module for the HTTP client), the JSON Schema validator's
# Rust core.
_WORKER_ONLY_LIBRARIES = ("_rust.abi3.so", "libcrypto.", "_hashlib.", "_ssl.", "rpds.")


def _mapped_files(process: psutil.Process) -> set[str]:
    return {Path(region.path).name for region in process.memory_maps() if region.path}


@pytest.mark.slow
def test_supervisor_memory_stays_small_and_flat(enrolled: AgentSetup, server: FakeServer) -> None:
    """The process that stays holds none of a check's libraries, and does not grow with
    cycles; every cycle ran in a worker that has exited."""
    enrolled.config_path.write_text(
        enrolled.config_path.read_text().replace(
            "check_interval_override: 3600", "check_interval_override: 0.05"
        )
    )
    with subprocess.Popen(
        agent_argv(*enrolled.args("run")), stderr=subprocess.PIPE, text=True, env=agent_env()
    ) as process:
        try:
            supervisor = psutil.Process(process.pid)
            server.wait_for_reports(10, timeout=120)
            early = supervisor.memory_info().rss
            mapped = _mapped_files(supervisor)
            server.wait_for_reports(40, timeout=240)
            late = supervisor.memory_info().rss
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    assert not {name for name in mapped if name.startswith(_WORKER_ONLY_LIBRARIES)}, mapped
    assert late - early < 1024 * 1024, f"supervisor RSS grew from {early} to {late} bytes"
    assert late < 35 * 1024 * 1024, f"supervisor RSS {late} bytes"
    seqs = [report.seq for report in server.state.reports]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 40


def test_a_worker_cut_short_by_the_stop_is_no_error(
    enrolled: AgentSetup, caplog: pytest.LogCaptureFixture
) -> None:
    """Under systemd the whole control group gets SIGTERM, possibly while a worker is still
    importing (before its handler is set): it dies of the signal, which is no failure."""
    code = "import time; print('x', flush=True); time.sleep(60)"
    hub = TriggerHub()
    loop = ServiceLoop(WorkerRunner(enrolled.config(), command=stand_in(code)), hub)
    threading.Timer(0.5, hub.request_stop).start()
    with caplog.at_level("INFO", logger="agent.supervisor"):
        assert loop.run() == 0
    assert "cut short by the stop" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert loop.backoff.failures == 0

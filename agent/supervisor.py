"""`custos-agent run`: a small long-lived process that decides *when*, and a short-lived
worker process per cycle that does the work.

Why two processes: an office PC runs the agent all day, and a check needs the whole
toolbox (collectors, the policy validator, the crypto library, the HTTP client and its TLS
context), which costs some 40 MB of memory once imported. The supervisor holds none of it:
only the watchers (agent.triggers) and the schedule, about 20 MB, flat however long it runs.
Each cycle runs `custos-agent send --format json` as a child process (a `WorkerRunner`
cycle), which checks, signs, spools, delivers, follows the server's policy and commands,
prints what happened as one JSON object, and exits, giving all its memory back. A worker
that crashes or hangs costs one cycle, not the service: after `WORKER_TIMEOUT` seconds it
gets SIGTERM, after `KILL_GRACE` more SIGKILL, and the next cycle runs in a fresh process.

`ServiceLoop` is the scheduling itself, independent of where a cycle runs: a check at
start, then on the policy's schedule (interval plus a random jitter, or
`check_interval_override`), and at once when a trigger fires. A failed delivery is retried
with backoff (a worker that only flushes the spool) while triggers are still served. A stop
request (SIGTERM, SIGINT) is passed on to a running worker, which finishes its step, or is
killed after `STOP_GRACE` seconds (a worker stuck in C code never sees the signal); then
the loop returns. In tests, `agent.service.Agent` runs the same loop in-process.
"""

from __future__ import annotations

import json
import logging
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from agent.config import AgentConfig
from agent.errors import CustosError
from agent.pacing import Backoff, next_check_delay
from agent.triggers import TriggerHub

log = logging.getLogger(__name__)

WORKER_TIMEOUT = 900.0  # a cycle that takes longer is stuck: probes and collectors are bounded
# After SIGTERM (a stop passed on, or an overrun), how long a worker may take to finish its
# step before SIGKILL. Short: a worker stuck in C code (a regex, a hung library call) never
# runs its handler, and a kill costs nothing durable (spool writes are atomic, a report in
# flight is sent again and answered `replay`).
STOP_GRACE = 5.0
KILL_GRACE = 5.0
EXIT_UNUSABLE = 2  # the worker's status when not enrolled or the policy is unusable
# When several triggers fired together, the report names the most telling one.
TRIGGER_PRIORITY = ("media", "network", "software", "command", "policy", "schedule")


class StepResult(Protocol):
    """What the loop needs to know of a cycle or flush: did delivery stop on a failure."""

    @property
    def failed(self) -> bool: ...

    @property
    def remaining(self) -> int: ...


class CycleRunner(Protocol):
    def cycle(self, trigger: str, should_stop: Callable[[], bool]) -> StepResult: ...

    def flush(self, should_stop: Callable[[], bool]) -> StepResult: ...

    def schedule_delay(self, rng: random.Random) -> float: ...


class WorkerError(CustosError):
    """A worker that crashed, hung or printed no result; `status` is its exit status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WorkerResult:
    """The JSON object `custos-agent send --format json` prints (agent.commands.send)."""

    delivered: int = 0
    rejected: int = 0
    remaining: int = 0
    failed: bool = False
    failure: str = ""
    schedule: tuple[float, float] | None = None  # (interval, jitter) seconds, from the policy

    @classmethod
    def parse(cls, text: str) -> WorkerResult:
        data = json.loads(text)
        schedule = data.get("schedule")
        return cls(
            delivered=int(data["delivered"]),
            rejected=int(data["rejected"]),
            remaining=int(data["remaining"]),
            failed=bool(data["failed"]),
            failure=str(data.get("failure") or ""),
            schedule=(
                (float(schedule["interval_seconds"]), float(schedule["jitter_seconds"]))
                if isinstance(schedule, dict)
                else None
            ),
        )


def worker_command(config: AgentConfig, verbose: bool) -> list[str]:
    """The worker's command line without its subcommand options: the same interpreter and
    the same config and state directory as this process, by absolute path."""
    # -P (3.11+): the working directory must not be able to shadow the agent's modules.
    command = [sys.executable, *(["-P"] if sys.version_info >= (3, 11) else []), "-m", "agent"]
    command += ["--state-dir", str(Path(config.state_dir).absolute())]
    if config.source is not None:
        command += ["--config", str(Path(config.source).absolute())]
    if verbose:
        command.append("-v")
    return [*command, "send", "--format", "json"]


# Called with each worker just started: the Windows service puts it into a kill-on-close Job
# Object (agent.platforms.windows.jobs), so that no worker outlives the service.
WorkerContainment = Callable[["subprocess.Popen[bytes]"], None]


class WorkerRunner:
    """Runs each cycle as `custos-agent send` in a child process; see the module docstring.
    `command` replaces the worker's command line (tests use stand-in programs); `contain`
    is the platform's hold on each worker (see `WorkerContainment`)."""

    def __init__(
        self,
        config: AgentConfig,
        verbose: bool = False,
        timeout: float = WORKER_TIMEOUT,
        stop_grace: float = STOP_GRACE,
        command: list[str] | None = None,
        contain: WorkerContainment | None = None,
        kill_grace: float = KILL_GRACE,
    ) -> None:
        self.config = config
        self.contain = contain
        self.timeout = timeout
        self.stop_grace = stop_grace
        self.kill_grace = kill_grace
        self.command = command or worker_command(config, verbose)
        self._schedule: tuple[float, float] | None = None  # the last worker's, if any

    def cycle(self, trigger: str, should_stop: Callable[[], bool]) -> WorkerResult:
        return self._run(["--trigger", trigger], should_stop)

    def flush(self, should_stop: Callable[[], bool]) -> WorkerResult:
        return self._run(["--no-check"], should_stop)

    def schedule_delay(self, rng: random.Random) -> float:
        return next_check_delay(self._schedule, self.config.check_interval_override, rng)

    def _run(self, options: list[str], should_stop: Callable[[], bool]) -> WorkerResult:
        started = time.monotonic()
        process = subprocess.Popen(
            [*self.command, *options],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None,  # the worker's log lines go where ours go (the journal)
        )
        try:
            if self.contain is not None:
                self.contain(process)
            status = self._wait(process, started, should_stop)
            output = process.stdout.read() if process.stdout is not None else b""
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if status not in (0, 1):  # 0: spool empty afterwards, 1: reports still waiting
            raise WorkerError(f"the cycle's worker exited with status {status}", status)
        try:
            result = WorkerResult.parse(output.decode("utf-8"))
        except (ValueError, KeyError, TypeError) as exc:
            raise WorkerError(f"the cycle's worker printed no result ({exc})", status) from exc
        if result.schedule is not None:
            self._schedule = result.schedule
        log.debug("worker done in %.2f s: %s", time.monotonic() - started, result)
        return result

    def _wait(
        self, process: subprocess.Popen[bytes], started: float, should_stop: Callable[[], bool]
    ) -> int:
        """Wait for the worker. A stop request, or an overrun of its time, is passed on as
        SIGTERM once (the worker finishes its step); a worker still running after the grace
        is killed with SIGKILL. Its output is small: the pipe cannot fill."""
        asked_at: float | None = None
        grace, why = 0.0, ""
        while True:
            try:
                status = process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                status = None
            now = time.monotonic()
            if status is not None:
                if why and status < 0:  # ended by the SIGTERM, before finishing its step
                    raise WorkerError(
                        f"the cycle's worker was stopped after {now - started:.0f} s ({why})",
                        status,
                    )
                return status
            if asked_at is None:
                if should_stop():
                    grace, why = self.stop_grace, "it did not stop when asked"
                elif now - started > self.timeout:
                    grace, why = self.kill_grace, "it overran"
                if why:
                    asked_at = now
                    # On Windows this is TerminateProcess, which durable spool writes
                    # survive as they survive a power cut.
                    process.send_signal(signal.SIGTERM)
            elif now - asked_at > grace:
                process.kill()
                process.wait()
                raise WorkerError(
                    f"the cycle's worker was killed after {now - started:.0f} s ({why})"
                )


def pick_trigger(fired: frozenset[str]) -> str:
    for kind in TRIGGER_PRIORITY:
        if kind in fired:
            return kind
    return "schedule"


class ServiceLoop:
    def __init__(
        self,
        runner: CycleRunner,
        hub: TriggerHub,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runner = runner
        self.hub = hub
        self.backoff = backoff or Backoff()
        self.rng = rng or random.Random()  # noqa: S311 - spreading load, not a secret
        self.clock = clock
        self.cycles = 0

    def _step(self, work: Callable[[], StepResult]) -> float | None:
        """Run one step; when the next delivery attempt is due (None: nothing to retry)."""
        try:
            result = work()
        except WorkerError as exc:
            if exc.status == EXIT_UNUSABLE and self.cycles == 0:
                raise  # at start-up, a broken config or policy stops the service
            if self.hub.stopping():  # the stop reached the worker before its handler did
                log.info("cycle cut short by the stop: %s", exc)
                return None
            log.error("%s; next attempt after a back-off", exc)
            return self.clock() + self.backoff.failure()
        except Exception:  # one bad cycle (disk full, broken policy) must not end the service
            log.exception("service step failed")
            return self.clock() + self.backoff.failure()
        if result.failed:
            delay = self.backoff.failure()
            log.info(
                "%d report(s) waiting; next delivery attempt in %.0f s", result.remaining, delay
            )
            return self.clock() + delay
        self.backoff.success()
        return None

    def run(self) -> int:
        trigger: str | None = "startup"
        next_check = self.clock()
        retry_at: float | None = None
        while not self.hub.stopping():
            if trigger is not None:
                retry_at = self._step(partial(self.runner.cycle, trigger, self.hub.stopping))
                self.cycles += 1
                next_check = self.clock() + self.runner.schedule_delay(self.rng)
                trigger = None
            elif retry_at is not None and self.clock() >= retry_at:
                retry_at = self._step(partial(self.runner.flush, self.hub.stopping))
            if self.hub.stopping():
                break
            wake_at = next_check if retry_at is None else min(next_check, retry_at)
            fired = self.hub.wait(wake_at - self.clock())
            if fired:
                trigger = pick_trigger(fired)
            elif self.clock() >= next_check:
                trigger = "schedule"
        log.info("stopping after %d cycle(s)", self.cycles)
        return 0

"""The demo's own `custos-server run`: a port checked first, output kept, stopped on any signal.

Three ways a first look went wrong before, and what this module does about each:

- Another server already listened on the port: the demo then talked to *that* server (its
  `/healthz` answered) and enrolled against it. `port_problem` tries to bind the port first,
  the way gunicorn will, so the demo can refuse with a clear message before touching anything.
- The child's output went to /dev/null, so a server that could not start left only "exited
  with status 1". `ChildServer` writes it to `server.log` in the data directory (a file, not
  a pipe: nothing has to drain it, and it outlives the demo for a later look) and hands back
  its last lines to show.
- SIGTERM or SIGHUP to the demo killed the demo and left the child listening. Inside
  `stop_signals()` those signals, and SIGINT, raise `StopRequested` in the main thread, so the
  demo's `finally` stops the child; further signals are ignored while it does.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import httpx

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
LOG_NAME = "server.log"
TAIL_LINES = 20
_TAIL_BYTES = 64 * 1024
# SIGHUP does not exist on Windows; there the console's Ctrl-C (SIGINT) and SIGTERM remain.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)


class StopRequested(BaseException):
    """A stop signal arrived; the demo unwinds and stops its child on the way out.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows
    it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class ChildServerError(Exception):
    """The child server exited or never answered; `str()` says which."""


def port_problem(port: int, host: str = LOOPBACK) -> str | None:
    """Why `custos-server run` could not listen on host:port, or None when it can.

    SO_REUSEADDR as gunicorn sets it: a port left in TIME_WAIT by an earlier run is free,
    one with a listener is not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is in use; choose another with --port"
            return (
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another with --port"
            )
    return None


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Within the block, the first stop signal raises StopRequested; later ones are ignored."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        for each in STOP_SIGNALS:
            signal.signal(each, signal.SIG_IGN)
        raise StopRequested(signum)

    previous = {each: signal.signal(each, request_stop) for each in STOP_SIGNALS}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


class ChildServer:
    """`python -m server run` on loopback, its stdout and stderr in `data_dir/server.log`."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.url = f"http://{LOOPBACK}:{port}"
        self.log_path = data_dir / LOG_NAME
        self._port = port
        self._env = env
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [sys.executable, "-m", "server", "run", "--host", LOOPBACK, "--port"]
        with self.log_path.open("wb") as log:  # this run's output only; the child keeps its fd
            self._process = subprocess.Popen(
                [*argv, str(self._port)],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("the child server was never started")
        return self._process

    def wait_until_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll is noise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ChildServerError(
                    f"custos-server run exited with status {self.process.returncode}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise ChildServerError(f"the server did not answer on {self.url} within {timeout:g} s")

    def wait(self) -> int:
        """Until the child ends by itself; its exit status."""
        return self.process.wait()

    def last_lines(self, count: int = TAIL_LINES) -> list[str]:
        """The end of the child's output, for a person to see why it failed."""
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, 2)
                log.seek(max(0, size - _TAIL_BYTES))
                tail = log.read()
        except OSError:
            return []
        lines = tail.decode("utf-8", errors="replace").splitlines()
        return lines[-count:]

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL if it takes too long."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

"""The silent-host sweep, every 60 seconds, on a background thread of `custos-server run`,
followed by the dashboard's daily rollup when it is due (every few minutes) and the alert
run (server.alerts.delivery: raise overdue and silent-host alerts, send what is due).

It runs in the gunicorn master, which forks workers, so two things are taken care of:
- the sweep closes its database connection when it is done, so no connection is ever copied
  into a worker;
- a fork waits until a running sweep has finished (`os.register_at_fork` takes the sweep's
  lock around every fork), so a worker is never forked halfway through one.
`stop()` wakes the thread at once and waits for it, which is what SIGTERM ends with.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger("server.sweeper")

SWEEP_EVERY_SECONDS = 60.0
_fork_lock = threading.Lock()
_fork_hooks_installed = False


def _install_fork_hooks() -> None:
    global _fork_hooks_installed
    if not _fork_hooks_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=_fork_lock.acquire,
            after_in_parent=_fork_lock.release,
            after_in_child=_fork_lock.release,
        )
        _fork_hooks_installed = True


class Sweeper:
    def __init__(
        self, sweep_once: Callable[[], object], every_seconds: float = SWEEP_EVERY_SECONDS
    ) -> None:
        self._sweep_once = sweep_once
        self._every = every_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="custos-sweeper", daemon=True)

    def start(self) -> None:
        _install_fork_hooks()
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with _fork_lock:
                try:
                    self._sweep_once()
                except Exception:  # a failed sweep (database away) is retried next round
                    logger.exception("the silent-host sweep failed")
            self._stopping.wait(self._every)


def sweep_and_close() -> None:
    """One sweep with the configured threshold, then close this thread's connection."""
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from server.alerts.delivery import run_quietly as run_alerts_quietly
    from server.dashboard.rollup import rollup_if_due
    from server.fleet.silence import sweep

    try:
        marked = sweep(timezone.now(), settings.CUSTOS_SILENT_AFTER_MISSED)
        if marked:
            logger.info("%d host(s) marked silent", marked)
        # After the sweep, so today's figures count the hosts it just marked silent.
        rollup_if_due(timezone.now())
        run_alerts_quietly()  # overdue notices, silent hosts, then send what is due
    finally:
        connections.close_all()

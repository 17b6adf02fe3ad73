"""Running processes: name, executable and owner, enough to tell a client really runs."""

from __future__ import annotations

import psutil

from agent.collectors.base import CollectContext
from agent.errors import Cause, CollectorError
from agent.facts import Process

NAME = "processes"


def collect(ctx: CollectContext) -> tuple[Process, ...]:
    del ctx  # portable through psutil on every OS
    processes = []
    try:
        for proc in psutil.process_iter(["pid", "name", "exe", "username"]):
            info = proc.info
            processes.append(
                Process(
                    pid=int(info["pid"]),
                    name=info.get("name") or "",
                    # exe and owner may be unreadable for other users' processes when not root.
                    exe=info.get("exe") or "",
                    user=info.get("username") or "",
                )
            )
    except psutil.AccessDenied as exc:  # the list itself refused (e.g. a hardened /proc)
        raise CollectorError(
            f"the process list is not readable: {exc}", Cause.PERMISSION_DENIED
        ) from exc
    return tuple(processes)

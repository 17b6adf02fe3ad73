"""`custos-agent run`: the service, until SIGTERM or SIGINT (then exit 0).

The process that stays is the supervisor (agent.supervisor): watchers and the schedule.
Each cycle runs in a worker process, `custos-agent send --format json`.

Exit status 2 when the start-up cycle finds the agent not enrolled or its configured policy
unusable: restarting would not help, so the systemd unit does not restart on 2
(RestartPreventExitStatus), nor does the Windows service (it reports a service-specific exit
code 2, which the service manager's recovery does not act on). Later, such a cycle is logged
and retried after a back-off.

`serve` is the loop itself, shared with the Windows service host
(agent.platforms.windows.winservice), which stops it through the hub instead of a signal.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Sequence
from types import FrameType

from agent.config import AgentConfig, load_config
from agent.platforms import current_platform
from agent.supervisor import (
    EXIT_UNUSABLE,
    ServiceLoop,
    WorkerContainment,
    WorkerError,
    WorkerRunner,
)
from agent.triggers import TriggerHub, Watcher, start_triggers


def run_service(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    hub = TriggerHub()

    def stop(signum: int, frame: FrameType | None) -> None:
        hub.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return serve(config, hub, verbose=args.verbose)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(
    config: AgentConfig,
    hub: TriggerHub,
    *,
    verbose: bool = False,
    contain: WorkerContainment | None = None,
    extra_watchers: Sequence[Watcher] = (),
) -> int:
    """Watch and run cycles until `hub.request_stop()`; 0, or EXIT_UNUSABLE at start-up.
    `extra_watchers` are the platform's own event sources (Windows: device, network and
    registry notifications), started and stopped with the others."""
    triggers = start_triggers(hub, current_platform(), config.watch_roots, extra=extra_watchers)
    try:
        runner = WorkerRunner(config, verbose=verbose, contain=contain)
        return ServiceLoop(runner, hub).run()
    except WorkerError as exc:
        if exc.status == EXIT_UNUSABLE:
            return EXIT_UNUSABLE  # the worker said why, on stderr
        raise
    finally:
        triggers.stop()

"""`custos-agent run`: the service, until SIGTERM or SIGINT (then exit 0).

The process that stays is the supervisor (agent.supervisor): watchers and the schedule.
Each cycle runs in a worker process, `custos-agent send --format json`.

Exit status 2 when the start-up cycle finds the agent not enrolled or its configured policy
unusable: restarting would not help, so the systemd unit does not restart on 2
(RestartPreventExitStatus). Later, such a cycle is logged and retried after a back-off.
"""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from agent.config import load_config
from agent.platforms import current_platform
from agent.supervisor import EXIT_UNUSABLE, ServiceLoop, WorkerError, WorkerRunner
from agent.triggers import TriggerHub, start_triggers


def run_service(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    hub = TriggerHub()

    def stop(signum: int, frame: FrameType | None) -> None:
        hub.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    triggers = start_triggers(hub, current_platform(), config.watch_roots)
    try:
        return ServiceLoop(WorkerRunner(config, verbose=args.verbose), hub).run()
    except WorkerError as exc:
        if exc.status == EXIT_UNUSABLE:
            return EXIT_UNUSABLE  # the worker said why, on stderr
        raise
    finally:
        triggers.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""`custos-agent run`: the service loop, until SIGTERM or SIGINT (then exit 0).

Exit status 2 when not enrolled or the configured policy is unusable: restarting would not
help, so the systemd unit does not restart on 2 (RestartPreventExitStatus).
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from agent.config import load_config
from agent.service import Agent, NotEnrolledError, ServiceLoop
from agent.triggers import TriggerHub, start_triggers

EXIT_NOT_ENROLLED = 2


def run_service(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    try:
        agent = Agent.open(config)
    except NotEnrolledError as exc:
        print(f"custos-agent: {exc}", file=sys.stderr)
        return EXIT_NOT_ENROLLED
    try:
        agent.policy()  # a broken configured policy stops here, not in every cycle
        hub = TriggerHub()

        def stop(signum: int, frame: FrameType | None) -> None:
            hub.request_stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        triggers = start_triggers(hub, agent.platform, config.watch_roots)
        try:
            return ServiceLoop(agent, hub).run()
        finally:
            triggers.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        agent.close()

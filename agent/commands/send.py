"""`custos-agent send`: one check now, then deliver everything waiting, oldest first.

    --trigger KIND   what the report says caused the check (default: manual)
    --no-check       only deliver what is waiting
    --format json    one JSON object on stdout (what `custos-agent run` reads from its
                     workers, agent.supervisor): delivered, rejected, remaining, failed,
                     failure, and the policy's schedule

Exit status: 0 when the spool is empty afterwards, 1 when reports remain (the server could
not be reached, or answered with a server error) or the server-assigned policy is unusable
(the next cycle fetches its fix first), 2 when not enrolled or the config's policy is
unusable. SIGTERM or SIGINT lets the current step finish (a report is spooled whole) and
stops delivering.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from agent.config import load_config
from agent.delivery import FlushResult
from agent.service import Agent, NotEnrolledError

EXIT_OK, EXIT_WAITING, EXIT_NOT_ENROLLED = 0, 1, 2


@contextmanager
def stop_requests() -> Iterator[list[bool]]:
    """A flag that SIGTERM and SIGINT set, instead of ending the process mid-step."""
    stop = [False]

    def request(signum: int, frame: FrameType | None) -> None:
        stop[0] = True

    previous = {sig: signal.signal(sig, request) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_send(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    try:
        agent = Agent.open(config)
    except NotEnrolledError as exc:
        print(f"custos-agent: {exc}", file=sys.stderr)
        return EXIT_NOT_ENROLLED
    try:
        with stop_requests() as stop:
            should_stop = lambda: stop[0]  # noqa: E731 - read at each step
            if args.no_check:
                result = agent.flush(should_stop)
            else:
                result = agent.cycle(args.trigger, should_stop)
        schedule = agent.schedule()
    finally:
        agent.close()
    if args.format == "json":  # the failure is in the JSON, and in the log's warnings
        print(json.dumps(result_json(result, schedule)))
    else:
        print(
            f"delivered {result.delivered}, rejected {result.rejected}, waiting {result.remaining}"
        )
        if result.failed:
            print(f"custos-agent: delivery stopped: {result.failure}", file=sys.stderr)
    return EXIT_OK if result.remaining == 0 and not result.failed else EXIT_WAITING


def result_json(result: FlushResult, schedule: tuple[float, float] | None) -> dict[str, object]:
    return {
        "delivered": result.delivered,
        "rejected": result.rejected,
        "remaining": result.remaining,
        "failed": result.failed,
        "failure": result.failure,
        "schedule": (
            None
            if schedule is None
            else {"interval_seconds": schedule[0], "jitter_seconds": schedule[1]}
        ),
    }

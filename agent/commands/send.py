"""`custos-agent send`: one check now, then deliver everything waiting, oldest first.

Exit status: 0 when the spool is empty afterwards, 1 when reports remain (the server could
not be reached, or answered with a server error), 2 when not enrolled.
"""

from __future__ import annotations

import argparse
import sys

from agent.config import load_config
from agent.service import Agent, NotEnrolledError

EXIT_OK, EXIT_WAITING, EXIT_NOT_ENROLLED = 0, 1, 2


def run_send(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.state_dir)
    try:
        agent = Agent.open(config)
    except NotEnrolledError as exc:
        print(f"custos-agent: {exc}", file=sys.stderr)
        return EXIT_NOT_ENROLLED
    try:
        result = agent.cycle("manual")
    finally:
        agent.close()
    print(f"delivered {result.delivered}, rejected {result.rejected}, waiting {result.remaining}")
    if result.failed:
        print(f"custos-agent: delivery stopped: {result.failure}", file=sys.stderr)
    return EXIT_OK if result.remaining == 0 else EXIT_WAITING

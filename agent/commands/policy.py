"""`custos-agent policy validate FILE...` and `custos-agent policy schema`."""

from __future__ import annotations

import argparse
import json
import sys


def run_policy_command(args: argparse.Namespace) -> int:
    if args.policy_command == "schema":
        from agent.policy.schema import policy_schema

        json.dump(policy_schema(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from agent.policy.loader import validate_policy_file

    broken = 0
    for path in args.files:
        problems = validate_policy_file(path)
        if problems:
            broken += 1
            for problem in problems:
                print(problem, file=sys.stderr)
        else:
            print(f"{path}: valid")
    return 2 if broken else 0

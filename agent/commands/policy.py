"""`custos-agent policy validate FILE...` and `custos-agent policy schema`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

from agent.config import load_config
from agent.errors import PolicyProblem
from agent.i18n import Lang, choose_lang, text

EXIT_POLICY_ERROR = 2


def print_problems(problems: Iterable[PolicyProblem], lang: Lang) -> None:
    """`file:line: key: reason` per problem on stderr, where editors and people read them."""
    for problem in problems:
        print(problem.in_lang(lang), file=sys.stderr)


def run_policy_command(args: argparse.Namespace) -> int:
    if args.policy_command == "schema":
        from agent.policy.schema import policy_schema

        json.dump(policy_schema(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    from agent.policy.loader import validate_policy_file

    lang = choose_lang(args.lang, load_config(args.config, args.state_dir).lang)
    broken = 0
    for path in args.files:
        problems = validate_policy_file(path)
        if problems:
            broken += 1
            print_problems(problems, lang)
        else:
            print(text("validate.valid", path=path).get(lang))
    return EXIT_POLICY_ERROR if broken else 0

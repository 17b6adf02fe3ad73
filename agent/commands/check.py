"""`custos-agent check`: one self-inspection, printed for a person or a program."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from agent.commands.policy import EXIT_POLICY_ERROR, print_problems
from agent.config import AgentConfig, load_config
from agent.errors import ConfigError, PolicyError
from agent.i18n import choose_lang

DEFAULT_POLICY = "intranet-office.yaml"
SERVER_POLICY = "policy.yaml"  # where the service keeps the policy the server assigned


def bundled_policy(name: str = DEFAULT_POLICY) -> Path:
    """The example policy shipped with the agent (wheel), or the checkout's `policies/`."""
    packaged = resources.files("agent") / "bundled_policies" / name
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "policies" / name
    if checkout.is_file():
        return checkout
    raise ConfigError(f"no policy given and no bundled {name} found; use --policy FILE")


def choose_policy(explicit: Path | None, config: AgentConfig) -> Path:
    """--policy, then the config's policy, then the server's, then the bundled default."""
    if explicit is not None:
        return explicit
    if config.policy_file is not None:
        return config.policy_file
    assigned = config.state_dir / SERVER_POLICY
    if assigned.is_file():
        return assigned
    return bundled_policy()


def run_check_command(args: argparse.Namespace) -> int:
    from agent.checking import run_check
    from agent.platforms import current_platform
    from agent.policy.loader import load_policy

    config = load_config(args.config, args.state_dir)
    lang = choose_lang(args.lang, config.lang)
    try:
        policy = load_policy(choose_policy(args.policy, config))
    except PolicyError as exc:
        print_problems(exc.problems, lang)
        return EXIT_POLICY_ERROR
    result = run_check(policy, current_platform(), config.asset)
    if args.format == "json":
        from agent.output.json_report import check_document
        from agent.output.json_stream import write_json

        write_json(check_document(result, lang))
    else:
        from agent.output.sheet import render_sheet

        sys.stdout.write(render_sheet(result, lang))
    return 0 if result.summary.compliant else 1

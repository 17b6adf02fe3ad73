"""`custos-agent`: the command line of the endpoint agent.

Each subcommand imports what it needs when it runs, so `inventory` never pays for the HTTP
client, the crypto library or the policy validator.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from agent import __version__
from agent.protocol.payload import TRIGGERS

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_READER_GONE = 128 + 13  # what a shell shows for a process ended by SIGPIPE


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="agent config file (default: CUSTOS_AGENT_CONFIG or the OS's own place)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="agent state directory (default: CUSTOS_AGENT_STATE or the OS's own place)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")


def _add_lang_option(parser: argparse.ArgumentParser, what: str = "") -> None:
    """`--lang zh|en`; without it, the config's `lang`, then the locale (agent.i18n)."""
    about = f"language {what} " if what else "language "
    parser.add_argument(
        "--lang", choices=("zh", "en"), help=about + "(default: the config's, else the locale's)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custos-agent",
        description="Custos endpoint agent: self-inspection of this PC against a YAML policy.",
    )
    parser.add_argument("--version", action="version", version=f"custos-agent {__version__}")
    _add_global_options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inventory = commands.add_parser("inventory", help="print the facts collected on this PC")
    inventory.add_argument("--format", choices=("json", "text"), default="json")
    _add_lang_option(inventory, "of the text format")

    check = commands.add_parser("check", help="one self-inspection against a policy")
    check.add_argument("--policy", type=Path, metavar="FILE", help="policy YAML to check against")
    check.add_argument("--format", choices=("text", "json"), default="text")
    _add_lang_option(check)

    policy = commands.add_parser("policy", help="work with policy files")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    validate = policy_commands.add_parser("validate", help="check policy files; exit 2 if broken")
    validate.add_argument("files", type=Path, nargs="+", metavar="FILE")
    _add_lang_option(validate)
    policy_commands.add_parser("schema", help="print the policy JSON Schema")

    enroll = commands.add_parser("enroll", help="enroll this PC with a collection server")
    enroll.add_argument("--server", required=True, metavar="URL", help="https://server[:port]")
    token = enroll.add_mutually_exclusive_group(required=True)
    token.add_argument(
        "--token",
        help="enrollment token from the unit admin; '-' reads it from standard input "
        "(a token on the command line is visible to every user in the process list)",
    )
    token.add_argument("--token-file", type=Path, metavar="FILE", help="read the token from FILE")
    enroll.add_argument("--ca-bundle", type=Path, metavar="FILE", help="trust only these CAs")
    enroll.add_argument("--pin-sha256", metavar="HEX", help="SHA-256 of the server certificate")
    enroll.add_argument("--proxy", metavar="URL", help="HTTP proxy to reach the server through")
    enroll.add_argument("--force", action="store_true", help="enroll again (new key, new host)")
    _add_lang_option(enroll)

    commands.add_parser("run", help="the service: check and report on schedule and on events")
    send = commands.add_parser("send", help="check now and deliver every waiting report")
    send.add_argument(
        "--trigger",
        choices=TRIGGERS,
        default="manual",
        help="what the report names as the cause of the check (default: manual)",
    )
    send.add_argument("--no-check", action="store_true", help="only deliver what is waiting")
    send.add_argument("--format", choices=("text", "json"), default="text")

    status = commands.add_parser("status", help="enrollment, waiting reports, policy")
    status.add_argument("--format", choices=("json", "text"), default="json")
    _add_lang_option(status, "of the text format")

    # Listed for --help only: main() hands its arguments to agent.probes.responder as they are.
    commands.add_parser(
        "probe-responder",
        help="run the signed-answer responder for egress probes (outside the intranet)",
    )

    for sub in commands.choices.values():
        _add_global_options_quietly(sub)
    return parser


def _add_global_options_quietly(parser: argparse.ArgumentParser) -> None:
    """Accept the global options after the subcommand too (`custos-agent check --config F`)."""
    parser.add_argument(
        "--config", type=Path, metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--state-dir", type=Path, metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "probe-responder" in arguments:
        # The responder has its own options (and --help); hand them over untouched.
        from agent.probes.responder import main as responder_main

        return responder_main(arguments[arguments.index("probe-responder") + 1 :])
    args = build_parser().parse_args(arguments)
    # Delivery trouble (warnings) reaches the service's journal even when not verbose; `send`
    # is also the service's worker (agent.supervisor).
    quiet = logging.WARNING if args.command in ("run", "send") else logging.ERROR
    logging.basicConfig(
        level=logging.INFO if args.verbose else quiet,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if sys.platform == "win32":  # a worker of the Windows service logs to the Event Log too
        from agent.platforms.windows.eventlog import attach_if_asked

        attach_if_asked()
    from agent.errors import CustosError

    try:
        if args.command == "inventory":
            from agent.commands.inventory import run_inventory

            return run_inventory(args)
        if args.command == "check":
            from agent.commands.check import run_check_command

            return run_check_command(args)
        if args.command == "policy":
            from agent.commands.policy import run_policy_command

            return run_policy_command(args)
        if args.command == "enroll":
            from agent.commands.enroll import run_enroll

            return run_enroll(args)
        if args.command == "run":
            from agent.commands.run import run_service

            return run_service(args)
        if args.command == "send":
            from agent.commands.send import run_send

            return run_send(args)
        if args.command == "status":
            from agent.commands.status import run_status

            return run_status(args)
    except CustosError as exc:
        print(f"custos-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    raise AssertionError(f"unhandled command {args.command}")  # argparse prevents this


def _reader_went_away() -> int:
    """Standard output's reader stopped reading (`custos-agent inventory | head`): end quietly,
    as command-line tools do on SIGPIPE, instead of with a traceback.

    Python ignores SIGPIPE so that a socket write cannot kill the service; the pipe's EPIPE
    arrives as BrokenPipeError instead. What is still buffered for stdout would fail again in
    the interpreter's final flush, so stdout is pointed at the null device first."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
    return EXIT_READER_GONE

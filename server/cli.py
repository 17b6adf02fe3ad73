"""`custos-server`: the collection server's command line.

Each subcommand is a thin call into a Django management command or a service function; all
of them act as the operating-system user running them ("cli:<user>" in the audit log).

Exit status: 0 done; 1 the work found a problem (a broken audit chain, a database error, a
snapshot that does not verify); 2 a usage or configuration error (bad arguments or
environment, unknown unit, invalid policy, a file that is not a snapshot at all).

`verify` is dispatched before Django is set up: an auditor runs it on a laptop with nothing
but the package installed, no settings, no data directory and no database. It exits 3 when
it fails itself (an unexpected error: a bug), so that no script takes that for a verdict.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agent import __version__
from server.sightings.cli import add_sightings_commands

Handler = Callable[[argparse.Namespace], int]
USAGE_ERROR = 2


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()


# --- handlers ------------------------------------------------------------------------------


def _migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    return 0


def _run(args: argparse.Namespace) -> int:
    from django.db import connection, connections
    from django.db.migrations.executor import MigrationExecutor

    from server.errors import AdminError
    from server.lib.server_key import current_server_key
    from server.serving import serve

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise AdminError("the database is not up to date; run `custos-server migrate` first")
    current_server_key()  # create it now, not in several workers at once
    connections.close_all()  # nothing of the master's may be inherited by the workers
    serve(args.host, args.port, args.workers)
    return 0


def _unit_add(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.accounts.units import add_unit_path

    unit, created = add_unit_path(args.path, cli_actor())
    print(f"{unit.path}: {'created' if created else 'exists already'}")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _user_add(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.accounts.units import find_unit
    from server.accounts.users import add_user

    unit = find_unit(args.unit) if args.unit else None
    password = _read_password()
    add_user(args.name, args.role, unit, password, cli_actor())
    print(f"user {args.name} ({args.role}{' of ' + unit.path if unit else ''}) added")
    return 0


def _user_password(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.accounts.users import generated_password, set_password

    password = generated_password() if args.generate else _read_password()
    set_password(args.name, password, cli_actor())
    if args.generate:
        print(password)
    print(f"password of {args.name} changed", file=sys.stderr)
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.accounts.units import find_unit
    from server.fleet.tokens import create_token

    row, token = create_token(
        find_unit(args.unit), args.uses, args.expires_days, cli_actor(), args.note
    )
    print(token)
    print(
        f"token id {row.pk} for {row.unit.path}: {row.uses_left} use(s), "
        f"expires {row.expires_at.isoformat(timespec='seconds')}",
        file=sys.stderr,
    )
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.fleet.tokens import revoke_token

    row = revoke_token(args.id, cli_actor())
    print(f"token id {row.pk} revoked")
    return 0


def _policy_add(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.accounts.units import find_unit
    from server.errors import AdminError
    from server.fleet.policies import add_policy

    unit = find_unit(args.unit)
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdminError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    policy = add_policy(data, str(path), unit, cli_actor())
    print(f"policy {policy.policy_id} {policy.version} ({policy.sha256}) assigned to {unit.path}")
    return 0


def _command_recheck(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from server.accounts.audit import cli_actor
    from server.accounts.models.units import PATH_SEPARATOR
    from server.accounts.units import find_unit
    from server.errors import AdminError
    from server.fleet.commands import create_rechecks
    from server.fleet.models import Host

    if args.host:
        hosts = Host.objects.filter(host_id=args.host)
        if not hosts.exists():
            raise AdminError(f"no host {args.host}")
    else:
        unit = find_unit(args.unit)
        hosts = Host.objects.filter(unit__path=unit.path) | Host.objects.filter(
            unit__path__startswith=unit.path + PATH_SEPARATOR
        )
    created = create_rechecks(hosts, cli_actor(), timezone.now())
    for command in created:
        print(f"recheck {command.pk} for {command.host.host_id}")
    print(f"{len(created)} recheck command(s) created", file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("sweep")
    return 0


def _rollup(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("rollup", backfill=args.backfill)
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from server.accounts.audit import verify_chain
    from server.accounts.models import AuditEntry

    broken = verify_chain()
    if broken is not None:
        print(f"audit chain BROKEN at entry {broken}", file=sys.stderr)
        return 1
    print(f"audit chain intact: {AuditEntry.objects.count()} entries")
    return 0


def _snapshot_create(args: argparse.Namespace) -> int:
    from server.accounts.audit import cli_actor
    from server.accounts.units import find_unit
    from server.snapshots.create import create_snapshot

    created = create_snapshot(find_unit(args.unit), Path(args.out), cli_actor())
    print(f"{created.path}: snapshot of {created.unit} written")
    print(f"hosts: {created.hosts}, reports: {created.reports}, sha256: {created.sha256}")
    print(f"server key fingerprint (SHA-256): {created.fingerprint}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Offline: called before Django is set up (see `main`), so it needs no settings."""
    from server.snapshots.verify import run

    return run(args.file, args.fingerprint)


def _key_fingerprint(args: argparse.Namespace) -> int:
    from server.lib.server_key import current_server_key
    from server.snapshots.bundle import fingerprint, raw_public_key

    print(fingerprint(raw_public_key(current_server_key())))
    return 0


def _alerts_send(args: argparse.Namespace) -> int:
    from server.alerts.delivery import run

    summary = run()
    print(
        f"{summary.raised_overdue} overdue and {summary.raised_silent} silent-host alert(s) "
        f"raised; {summary.sent} delivered, {summary.failed} given up, "
        f"{summary.waiting} waiting for their digest"
    )
    for error in summary.errors:
        print(f"custos-server: {error}", file=sys.stderr)
    return 1 if summary.errors else 0


# --- parser --------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _backfill_days(text: str) -> int:
    from server.dashboard.periods import MAX_BACKFILL_DAYS

    value = _positive(text)
    if value > MAX_BACKFILL_DAYS:
        raise argparse.ArgumentTypeError(f"at most {MAX_BACKFILL_DAYS} days")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("a port is 1 to 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="custos-server",
        description="Custos collection server. Configured by CUSTOS_* environment variables "
        "(see docs/server.md).",
    )
    parser.add_argument("--version", action="version", version=f"custos-server {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="create or upgrade the database").set_defaults(
        handler=_migrate
    )

    run = commands.add_parser("run", help="serve the API (gunicorn) and sweep silent hosts")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on")
    run.add_argument("--port", type=_port, default=8400)
    run.add_argument("--workers", type=_positive, default=2, help="worker processes")
    run.set_defaults(handler=_run)

    unit = commands.add_parser("unit", help="units").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    unit_add = unit.add_parser("add", help="create a unit and the units above it")
    unit_add.add_argument("path", help="e.g. province/city/county/unit")
    unit_add.set_defaults(handler=_unit_add)

    user = commands.add_parser("user", help="users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    user_add = user.add_parser("add", help="create a user; the password is read from stdin")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=("admin", "auditor", "superuser"))
    user_add.add_argument("--unit", help="the unit whose subtree the user sees")
    user_add.set_defaults(handler=_user_add)
    user_password = user.add_parser(
        "password", help="set a user's password, read from stdin (or --generate one)"
    )
    user_password.add_argument("name")
    user_password.add_argument(
        "--generate", action="store_true", help="make a random password and print it"
    )
    user_password.set_defaults(handler=_user_password)

    token = commands.add_parser("token", help="enrollment tokens").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    token_create = token.add_parser("create", help="print a new enrollment token")
    token_create.add_argument("--unit", required=True)
    token_create.add_argument("--uses", type=_positive, default=1)
    token_create.add_argument("--expires-days", type=_positive, default=7)
    token_create.add_argument("--note", default="", help="what the token is for")
    token_create.set_defaults(handler=_token_create)
    token_revoke = token.add_parser("revoke", help="revoke a token by its id")
    token_revoke.add_argument("id", type=_positive)
    token_revoke.set_defaults(handler=_token_revoke)

    policy = commands.add_parser("policy", help="policies").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    policy_add = policy.add_parser("add", help="validate, store and assign a policy to a unit")
    policy_add.add_argument("file")
    policy_add.add_argument("--unit", required=True)
    policy_add.set_defaults(handler=_policy_add)

    command = commands.add_parser("command", help="commands for agents").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    recheck = command.add_parser("recheck", help="ask hosts to check again now")
    target = recheck.add_mutually_exclusive_group(required=True)
    target.add_argument("--host", help="a host id (h_…)")
    target.add_argument("--unit", help="every host in this unit's subtree")
    recheck.set_defaults(handler=_command_recheck)

    commands.add_parser("sweep", help="mark hosts silent that stopped reporting").set_defaults(
        handler=_sweep
    )

    rollup = commands.add_parser(
        "rollup", help="write the dashboard's daily per-unit figures (the server does it too)"
    )
    rollup.add_argument(
        "--backfill",
        type=_backfill_days,
        default=0,
        metavar="DAYS",
        help="also rebuild the DAYS days before today that have no figures, from reports",
    )
    rollup.set_defaults(handler=_rollup)

    demo = commands.add_parser(
        "demo",
        help="a first look: SQLite, a unit tree, an admin, this machine enrolled and reporting",
    )
    demo.add_argument("--data-dir", default="custos-demo", help="where the demo keeps its data")
    demo.add_argument("--port", type=_port, default=8400)
    demo.add_argument("--lang", choices=("zh", "en"), default="zh", help="of the check sheet")
    demo.add_argument("--no-serve", action="store_true", help="stop after the first report")
    demo.set_defaults(handler=None)

    audit = commands.add_parser("audit", help="the audit log").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    audit.add_parser("verify", help="check the hash chain").set_defaults(handler=_audit_verify)

    snapshot = commands.add_parser("snapshot", help="signed compliance snapshots").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    snapshot_create = snapshot.add_parser(
        "create", help="export a unit subtree into one file signed by the server key"
    )
    snapshot_create.add_argument("--unit", required=True, help="the unit whose subtree to export")
    snapshot_create.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    snapshot_create.set_defaults(handler=_snapshot_create)

    verify = commands.add_parser(
        "verify", help="check a snapshot offline, without a database or settings"
    )
    verify.add_argument("file", metavar="FILE")
    verify.add_argument(
        "--fingerprint",
        metavar="HEX",
        help="the server key fingerprint the unit publishes (`custos-server key fingerprint`)",
    )
    verify.set_defaults(handler=_verify)

    key = commands.add_parser("key", help="the server key").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    key.add_parser(
        "fingerprint", help="print the SHA-256 fingerprint auditors compare snapshots with"
    ).set_defaults(handler=_key_fingerprint)

    alerts = commands.add_parser("alerts", help="alerts to units' admins").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    alerts.add_parser(
        "send", help="raise overdue and silent-host alerts and send what is due, once"
    ).set_defaults(handler=_alerts_send)
    add_sightings_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verify":  # offline: no settings, no data directory, no database
        return _verify(args)
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError

    from server.errors import AdminError
    from server.lib.server_key import ServerKeyError

    try:
        if args.command == "demo":  # chooses its own data directory before Django starts
            from server.demo import run_demo

            return run_demo(args)
        _setup_django()
        handler: Handler = args.handler
        return handler(args)
    except (ImproperlyConfigured, AdminError, ServerKeyError) as exc:
        print(f"custos-server: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except DatabaseError as exc:
        print(f"custos-server: database error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

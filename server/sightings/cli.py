"""`custos-server sightings …`: import lease files and switch tables, list what was seen.

    sightings import FILE --unit PATH --format dhcpd|dnsmasq|kea|windows-dhcp|switch
                          [--source NAME] [--dry-run]
        exit 0 imported (lines that could not be read are listed on stderr), 2 a file that
        is not of that format, an unknown unit or bad arguments
    sightings list --unit PATH [--show unregistered|known|all] [--format text|json]
        the devices seen in the unit's subtree; unregistered ones by default (网内未注册设备)

Imported as the operating-system user running it ("cli:<user>" in the audit log). Nothing
here imports Django until a handler runs (`server.cli` sets it up first).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

FORMATS = ("dhcpd", "dnsmasq", "kea", "windows-dhcp", "switch")
SHOWS = ("unregistered", "known", "all")


def _import(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from server.accounts.audit import cli_actor
    from server.accounts.units import find_unit
    from server.errors import AdminError
    from server.sightings.importing import import_file
    from server.sightings.models import ImportFormat

    unit = find_unit(args.unit)
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdminError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    result = import_file(
        unit,
        ImportFormat(args.format),
        data,
        file_name=path.name,
        source=args.source or "",
        actor=cli_actor(),
        now=timezone.now(),
        dry_run=args.dry_run,
    )
    parsed = result.parsed
    for problem in parsed.problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if parsed.problem_count > len(parsed.problems):
        print(f"{path}: … {parsed.problem_count - len(parsed.problems)} more", file=sys.stderr)
    if result.record is None:
        print(f"dry run: {len(parsed.view)} device(s) read from {path}, nothing stored")
    else:
        record = result.record
        print(
            f"{len(parsed.view)} device(s) from {record.source} imported into {unit.path} "
            f"({record.new_devices} new); {parsed.problem_count} line(s) not read"
        )
    return 0


def _list(args: argparse.Namespace) -> int:
    from django.db.models import Q

    from server.accounts.models.units import PATH_SEPARATOR
    from server.accounts.units import find_unit
    from server.sightings.listing import rows_for, shown
    from server.sightings.models import Device

    unit = find_unit(args.unit)
    devices = Device.objects.filter(
        Q(unit__path=unit.path) | Q(unit__path__startswith=unit.path + PATH_SEPARATOR)
    ).select_related("unit")
    ordered = list(shown(devices, args.show).order_by("unit__path", "mac"))
    rows = rows_for(ordered)
    if args.format == "json":
        document: list[dict[str, Any]] = [
            {
                "mac": row.device.mac,
                "vendor": row.device.vendor,
                "ip": row.device.last_ip,
                "unit": row.device.unit.path,
                "first_seen": row.device.first_seen.isoformat(),
                "last_seen": row.last_seen.isoformat(),
                "still_seen": row.still_seen,
                "known_as": row.device.known_as,
                "seen_by": [source.label for source in row.sources],
            }
            for row in rows
        ]
        print(json.dumps(document, ensure_ascii=False, indent=1))
        return 0
    for row in rows:
        device = row.device
        seen_by = ", ".join(source.label for source in row.sources)
        if row.more_sources:
            seen_by += f" +{row.more_sources}"
        print(
            f"{device.mac}  {device.last_ip or '-':15}  {device.unit.path}  "
            f"{device.first_seen:%Y-%m-%d %H:%M} .. {row.last_seen:%Y-%m-%d %H:%M}  "
            f"{device.vendor or '-'}  [{seen_by}]  {device.known_as}".rstrip()
        )
    print(f"{len(rows)} device(s)", file=sys.stderr)
    return 0


def add_sightings_commands(commands: Any) -> None:
    """The `sightings` subcommands, on `custos-server`'s subparsers."""
    sightings = commands.add_parser(
        "sightings", help="devices seen on the units' networks (网内未注册设备)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = sightings.add_parser(
        "import", help="import DHCP leases or a switch MAC address table into a unit"
    )
    importing.add_argument("file", metavar="FILE")
    importing.add_argument("--unit", required=True, help="the unit whose network the file shows")
    importing.add_argument("--format", required=True, choices=FORMATS, help="what the file is")
    importing.add_argument(
        "--source",
        metavar="NAME",
        help="where the file comes from, e.g. the DHCP server or switch (default: the file "
        "name); importing the same source again updates its sightings",
    )
    importing.add_argument(
        "--dry-run", action="store_true", help="read the file and say what it holds; store nothing"
    )
    importing.set_defaults(handler=_import)
    listing = sightings.add_parser("list", help="devices seen in a unit's subtree")
    listing.add_argument("--unit", required=True)
    listing.add_argument("--show", choices=SHOWS, default="unregistered")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    listing.set_defaults(handler=_list)

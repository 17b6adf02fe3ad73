"""`manage rollup` / `custos-server rollup`: write the overview's daily figures, once.

The server's background sweeper runs the same rollup every few minutes; this command is for
installations that want it on their own schedule, and for `--backfill`, which rebuilds the
days before today that have no figures yet (after an upgrade, or a time the server was off).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from server.dashboard.periods import MAX_BACKFILL_DAYS
from server.dashboard.rollup import backfill, rollup_today


class Command(BaseCommand):
    help = "Write today's per-unit figures for the dashboard's trend; optionally fill past days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--backfill",
            type=int,
            default=0,
            metavar="DAYS",
            help="also rebuild the DAYS days before today that have no figures, from reports",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["backfill"]
        if not 0 <= days <= MAX_BACKFILL_DAYS:
            raise CommandError(f"--backfill takes 0 to {MAX_BACKFILL_DAYS} days", returncode=2)
        now = timezone.now()
        if days:
            added = backfill(days, now)
            self.stdout.write(f"{added} past day figure(s) added")
        written = rollup_today(now)
        self.stdout.write(f"{written} unit figure(s) written for {timezone.localdate(now)}")

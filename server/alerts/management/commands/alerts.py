"""`manage alerts send` / `custos-server alerts send`: raise due alerts and send them, once.

The server's sweeper thread does the same every minute; this command is for running it by
hand, or from cron where the server's own thread is not running.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from server.alerts.delivery import run


class Command(BaseCommand):
    help = "Raise alerts for overdue rectifications and silent hosts, then send what is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["send"])

    def handle(self, *args: Any, **options: Any) -> None:
        summary = run()
        self.stdout.write(
            f"{summary.raised_overdue} overdue and {summary.raised_silent} silent-host "
            f"alert(s) raised; {summary.sent} delivered, {summary.failed} given up, "
            f"{summary.waiting} waiting for their digest"
        )
        for error in summary.errors:
            self.stderr.write(error)
        if summary.errors:
            raise CommandError(f"{len(summary.errors)} delivery attempt(s) failed")

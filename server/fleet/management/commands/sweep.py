"""`manage sweep` / `custos-server sweep`: mark overdue hosts silent, once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from server.fleet.silence import sweep


class Command(BaseCommand):
    help = "Mark hosts silent that missed CUSTOS_SILENT_AFTER_MISSED reports in a row."

    def handle(self, *args: Any, **options: Any) -> None:
        marked = sweep(timezone.now(), settings.CUSTOS_SILENT_AFTER_MISSED)
        self.stdout.write(f"{marked} host(s) marked silent")

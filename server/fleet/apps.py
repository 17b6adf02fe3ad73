from __future__ import annotations

from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "server.fleet"
    label = "fleet"
    verbose_name = "Hosts, reports and policies"

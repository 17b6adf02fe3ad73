"""Alerts to a unit's admins: new serious violations, silent hosts, overdue rectifications."""

from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "server.alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from server.alerts.raising import on_hosts_silenced, on_report_ingested
        from server.fleet.signals import report_ingested
        from server.fleet.silence import hosts_silenced

        report_ingested.connect(on_report_ingested, dispatch_uid="alerts.violations")
        hosts_silenced.connect(on_hosts_silenced, dispatch_uid="alerts.silent")

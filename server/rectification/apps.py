"""Rectification (整改): notices from violations, automatic re-check, closing; spot checks."""

from __future__ import annotations

from django.apps import AppConfig


class RectificationConfig(AppConfig):
    name = "server.rectification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from server.fleet.signals import report_ingested
        from server.rectification.recheck import on_report_ingested

        report_ingested.connect(on_report_ingested, dispatch_uid="rectification.recheck")

from __future__ import annotations

from django.apps import AppConfig


class SightingsConfig(AppConfig):
    name = "server.sightings"
    label = "sightings"
    verbose_name = "Devices seen on the units' networks"

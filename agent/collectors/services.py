"""Installed services and their state (systemd units, Windows services, launchd jobs)."""

from __future__ import annotations

from agent.collectors.base import CollectContext
from agent.facts import Service

NAME = "services"


def collect(ctx: CollectContext) -> tuple[Service, ...]:
    return tuple(sorted(ctx.platform.services(), key=lambda s: s.name.lower()))

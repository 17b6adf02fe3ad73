"""Installed software, as the OS's own package database records it."""

from __future__ import annotations

from agent.collectors.base import CollectContext
from agent.facts import Software

NAME = "software"


def collect(ctx: CollectContext) -> tuple[Software, ...]:
    return tuple(
        sorted(ctx.platform.installed_software(), key=lambda s: (s.name.lower(), s.source))
    )

"""Removable media: storage attached now, every USB device by class, and connection history.

History that cannot be read (no journal, no permission) does not fail the collector: attached
devices are still facts. It is recorded in `history_error` so the policy can report the history
rule as `error` instead of pretending nothing was plugged in.
"""

from __future__ import annotations

from agent.collectors.base import CollectContext
from agent.facts import MediaFacts

NAME = "media"


def collect(ctx: CollectContext) -> MediaFacts:
    platform = ctx.platform
    history = platform.media_history(ctx.history_since)
    return MediaFacts(
        storage=platform.removable_storage(),
        usb_devices=platform.usb_devices(),
        history=history.events,
        history_source=history.source,
        history_since=ctx.history_since,
        history_error=history.error,
        history_cause=history.cause,
    )

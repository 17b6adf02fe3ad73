"""What a collector is, and the context every collector gets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from agent.facts import AssetFields
from agent.platforms.base import PlatformAdapter
from agent.policy.model import IpNetwork


@dataclass(frozen=True)
class CollectContext:
    platform: PlatformAdapter
    asset: AssetFields
    now: dt.datetime
    # Removable-media history is read from this moment on (None: everything the OS kept).
    history_since: dt.datetime | None = None
    # Which LAN neighbours a report may carry: the policy's allowed networks. None: no
    # limit (the local `inventory` command, which has no policy); (): none at all.
    neighbour_networks: tuple[IpNetwork, ...] | None = None

"""The collectors, found through this explicit registry (no import-time discovery magic).

Each collector is one module with `NAME` and `collect(ctx)`, returning typed frozen facts.
`collect_inventory` runs them; a collector that raises is recorded in `Inventory.errors` (and
its kind of failure in `Inventory.causes`) and the others go on, so one broken source never
hides the rest of the machine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from agent import __version__
from agent.collectors import host, media, neighbours, network, processes, services, software
from agent.collectors.base import CollectContext
from agent.errors import Cause, CustosError, cause_of
from agent.facts import Inventory

log = logging.getLogger(__name__)

Collector = Callable[[CollectContext], Any]

REGISTRY: dict[str, Collector] = {
    host.NAME: host.collect,
    software.NAME: software.collect,
    processes.NAME: processes.collect,
    services.NAME: services.collect,
    media.NAME: media.collect,
    network.NAME: network.collect,
    neighbours.NAME: neighbours.collect,
}


def collect_inventory(ctx: CollectContext, names: Iterable[str] | None = None) -> Inventory:
    wanted = list(REGISTRY) if names is None else list(names)
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    causes: dict[str, Cause] = {}
    for name in wanted:
        try:
            results[name] = REGISTRY[name](ctx)
        except Exception as exc:  # any failure stays inside its collector
            log.warning("collector %s failed: %s", name, exc)
            log.debug("collector %s failed", name, exc_info=True)
            # Our own errors already say what went wrong; anything else keeps its type name.
            errors[name] = (
                str(exc) if isinstance(exc, CustosError) else f"{type(exc).__name__}: {exc}"
            )
            causes[name] = cause_of(exc)
    return Inventory(
        host=results.get("host"),
        software=results.get("software"),
        processes=results.get("processes"),
        services=results.get("services"),
        media=results.get("media"),
        network=results.get("network"),
        collected_at=ctx.now,
        agent_version=__version__,
        errors=errors,
        neighbours=results.get("neighbours"),
        causes=causes,
    )

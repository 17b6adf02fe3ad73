"""When the service acts next: the schedule of checks, and backing off after failures.

Shared by the supervisor (agent.supervisor), which keeps the HTTP client and the policy
loader out of its memory, and the in-process `agent.service.Agent`.
"""

from __future__ import annotations

import random

BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
FALLBACK_INTERVAL = 3600.0  # seconds between checks while no policy schedule is known


def next_check_delay(
    schedule: tuple[float, float] | None, override: float | None, rng: random.Random
) -> float:
    """Seconds until the next scheduled check: the config's override, else the policy's
    (interval, jitter) with a random share of the jitter, else FALLBACK_INTERVAL."""
    if override is not None:
        return float(override)
    if schedule is None:
        return FALLBACK_INTERVAL
    interval, jitter = schedule
    return interval + rng.uniform(0, jitter)


class Backoff:
    """Exponential backoff with full jitter: after the n-th failure in a row wait a uniform
    random time in [0, min(cap, base * 2**(n-1))]. Full jitter spreads the agents of a whole
    unit once their server comes back, instead of all retrying in the same second."""

    def __init__(
        self,
        base: float = BACKOFF_BASE,
        cap: float = BACKOFF_CAP,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()  # noqa: S311 - spreading load, not a secret

    def ceiling(self) -> float:
        exponent = min(max(self.failures - 1, 0), 32)  # 2**32 * base is past any cap
        return min(self.cap, self.base * (1 << exponent))

    def failure(self) -> float:
        """Record one more failure; the delay before the next attempt, in seconds."""
        self.failures += 1
        return self._rng.uniform(0.0, self.ceiling())

    def success(self) -> None:
        self.failures = 0

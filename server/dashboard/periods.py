"""The periods the dashboard works with, importable before Django is set up (the CLI parses
its arguments first)."""

from __future__ import annotations

TREND_DAYS = (30, 90)  # the overview's trend chart: last 30 or 90 days
MAX_BACKFILL_DAYS = 400  # `custos-server rollup --backfill`: past days rebuilt from reports

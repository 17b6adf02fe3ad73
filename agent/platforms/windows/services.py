"""Windows services from the Service Control Manager, through psutil.

`psutil.win_service_iter()` asks the SCM directly (EnumServicesStatusExW, QueryServiceConfigW,
QueryServiceStatusEx), so there is no PowerShell process to start and the state and start
type come back as fixed English words on every display language. `WindowsService.as_dict()`
gives one record per service:

    name, display_name, description, binpath, username, pid (None when not running),
    status      "running" | "paused" | "start_pending" | "pause_pending" |
                "continue_pending" | "stop_pending" | "stopped" ("unknown" otherwise)
    start_type  "automatic" (delayed auto-start included) | "manual" | "disabled"
                ("unknown" otherwise)

`live_service_records()` reads those records on this machine (Windows only);
`services_from_records()` turns records, live or recorded, into `Service` facts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

import psutil

from agent.errors import CollectorError
from agent.facts import Service

# Windows has no "failed" service state: a service that crashed is simply "stopped".
_STATES = {"running": "running", "stopped": "stopped"}
_START_MODES = {"automatic": "auto", "manual": "manual", "disabled": "disabled"}


def live_service_records() -> list[dict[str, Any]]:
    """`as_dict()` of every service psutil lists; a service that disappears or refuses to be
    queried while the list is read is left out."""
    if sys.platform == "win32":
        records: list[dict[str, Any]] = []
        try:
            for service in psutil.win_service_iter():
                try:
                    records.append(dict(service.as_dict()))
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        except OSError as exc:  # the SCM itself could not be opened or enumerated
            raise CollectorError(f"Windows services unavailable: {exc}") from exc
        return records
    else:
        raise CollectorError(
            "Windows services can only be listed on Windows (psutil.win_service_iter)"
        )


def services_from_records(records: Iterable[Mapping[str, Any]]) -> tuple[Service, ...]:
    """One `Service` per record. A key that is missing or None reads as empty; a record
    without a name cannot be told apart from any other and is left out."""
    found = []
    for record in records:
        name = _text(record, "name")
        if not name:
            continue
        raw_state = _text(record, "status")
        start_type = _text(record, "start_type").lower()
        found.append(
            Service(
                name=name,
                display_name=_text(record, "display_name"),
                state=_STATES.get(raw_state.lower(), "other"),
                start_mode=_START_MODES.get(start_type, "other" if start_type else ""),
                source="windows",
                raw_state=raw_state,
            )
        )
    return tuple(found)


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return value.strip() if isinstance(value, str) else ""

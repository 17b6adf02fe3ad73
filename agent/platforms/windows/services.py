"""Windows services from the Service Control Manager, through CIM (Win32_Service).

State and StartMode come back as English words on every display language, which is why this
reads CIM and not `sc query` or `Get-Service` tables.
"""

from __future__ import annotations

from agent.facts import Service
from agent.platforms.base import CommandRunner
from agent.platforms.windows.powershell import run_json

SERVICES = (
    "Get-CimInstance Win32_Service | Select-Object Name,DisplayName,State,StartMode "
    "| ConvertTo-Json"
)

_STATES = {"running": "running", "stopped": "stopped"}
# "Boot" and "System" are driver start types; "Auto" includes delayed auto-start.
_START_MODES = {"auto": "auto", "manual": "manual", "disabled": "disabled"}


def services(run: CommandRunner) -> tuple[Service, ...]:
    found = []
    for record in run_json(run, SERVICES):
        raw_state = record.text("State")
        start_mode = record.text("StartMode").lower()
        found.append(
            Service(
                name=record.text("Name"),
                display_name=record.text("DisplayName"),
                state=_STATES.get(raw_state.lower(), "other"),
                start_mode=_START_MODES.get(start_mode, "other" if start_mode else ""),
                source="windows",
                raw_state=raw_state,
            )
        )
    return tuple(found)

"""Services on Linux, from systemd.

The plain table output is parsed instead of `--output=json` because UOS and Kylin ship systemd
releases older than the JSON output (v250).
"""

from __future__ import annotations

from agent.errors import CollectorError, CommandError
from agent.facts import Service
from agent.platforms.base import CommandRunner

_LIST_UNITS = (
    "systemctl",
    "list-units",
    "--type=service",
    "--all",
    "--no-legend",
    "--no-pager",
    "--plain",
)
_LIST_UNIT_FILES = ("systemctl", "list-unit-files", "--type=service", "--no-legend", "--no-pager")

_STATE_BY_SUB = {"running": "running", "dead": "stopped", "exited": "stopped", "failed": "failed"}
_MODE_BY_FILE_STATE = {
    "enabled": "auto",
    "enabled-runtime": "auto",
    "static": "manual",
    "indirect": "manual",
    "generated": "auto",
    "disabled": "disabled",
    "masked": "disabled",
}


def read_services(run: CommandRunner) -> tuple[Service, ...]:
    try:
        units_text = run(_LIST_UNITS)
    except CommandError as exc:
        raise CollectorError(f"systemd services unavailable: {exc.reason}") from exc
    try:
        files_text = run(_LIST_UNIT_FILES)
    except CommandError:
        files_text = ""  # start modes are a nicety; states are what policies check
    return parse_services(units_text, files_text)


def parse_services(units_text: str, unit_files_text: str) -> tuple[Service, ...]:
    """`UNIT LOAD ACTIVE SUB DESCRIPTION` rows joined with `UNIT-FILE STATE [PRESET]` rows."""
    modes: dict[str, str] = {}
    for line in unit_files_text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            modes[parts[0]] = _MODE_BY_FILE_STATE.get(parts[1], "other")
    services = []
    for line in units_text.splitlines():
        parts = line.strip().lstrip("●* ").split(None, 4)
        if len(parts) < 4 or not parts[0].endswith(".service"):
            continue
        unit, _load, active, sub = parts[:4]
        description = parts[4] if len(parts) > 4 else ""
        state = _STATE_BY_SUB.get(sub, "failed" if active == "failed" else "other")
        services.append(
            Service(
                name=unit.removesuffix(".service"),
                display_name=description,
                state=state,
                start_mode=modes.get(unit, ""),
                source="systemd",
                raw_state=f"{active}/{sub}",
            )
        )
    return tuple(services)

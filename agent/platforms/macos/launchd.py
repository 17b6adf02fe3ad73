"""Services on macOS: the jobs launchd knows in the domain the agent runs in.

`launchctl list` prints `PID<TAB>Status<TAB>Label`, "-" for a job without a process. Status is
the last exit status; a negative one is the signal that ended the job. Run as root (how the
agent runs as a service) it lists the system domain: LaunchDaemons, not the per-user
LaunchAgents of a logged-in user. It does not say whether a job starts at load, so start_mode
stays empty rather than guessed.
"""

from __future__ import annotations

from agent.facts import Service

LAUNCHCTL_LIST_ARGV = ("/bin/launchctl", "list")


def _state(pid: str, status: str) -> str:
    if pid != "-":
        return "running"
    if status in ("-", "0"):
        return "stopped"
    return "failed"


def parse_launchctl_list(output: str) -> tuple[Service, ...]:
    services: list[Service] = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] == "PID":
            continue
        pid, status, label = (field.strip() for field in fields)
        if not label or not (pid == "-" or pid.isdigit()):
            continue
        services.append(
            Service(
                name=label,
                display_name=label,
                state=_state(pid, status),
                start_mode="",
                source="launchd",
                raw_state=f"PID={pid} Status={status}",
            )
        )
    return tuple(services)

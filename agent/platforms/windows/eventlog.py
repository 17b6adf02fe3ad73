"""Warnings and errors of the Windows service in the Windows Event Log, source "Custos".

An IT office reads a PC's trouble in Event Viewer (or collects it centrally); a service has
no console. The stdlib's `logging.handlers.NTEventLogHandler` writes through pywin32's
win32evtlogutil; the installer registers the source (EventLog\\Application\\Custos, with
pywin32's message DLL) so Event Viewer shows the text without "description not found".

The supervisor attaches the handler to itself and sets `EVENT_LOG_ENV` for its workers, whose
`custos-agent send` attaches it too (agent.cli): a worker's warnings are where the service's are.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

EVENT_SOURCE = "Custos"
EVENT_LOG_ENV = "CUSTOS_EVENT_LOG"


def attach_event_log(level: int = logging.WARNING) -> bool:
    """Add an Event Log handler to the root logger; False where there is no Event Log."""
    if sys.platform == "win32":
        handler = logging.handlers.NTEventLogHandler(EVENT_SOURCE)
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        return True
    else:
        return False


def attach_if_asked() -> bool:
    """For workers: attach when the service asked for it through the environment."""
    return bool(os.environ.get(EVENT_LOG_ENV)) and attach_event_log()

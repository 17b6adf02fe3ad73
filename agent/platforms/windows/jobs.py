"""A kill-on-close Job Object: no worker outlives the Windows service.

`custos-agent run` starts a worker process per cycle. systemd kills the whole control group
when the service stops; Windows has no such thing unless the service asks for it. Each worker
is put into one Job Object created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, whose only handle
the service holds: when the service process ends, however it ends (stopped, crashed, killed),
Windows closes the handle and terminates every process still in the job, including
PowerShell processes a worker started (children join their parent's job).
Windows only (pywin32's win32job).
"""

from __future__ import annotations

import subprocess
from typing import Any


class KillOnCloseJob:
    def __init__(self) -> None:
        import win32job

        api: Any = win32job  # the stubs say CreateJobObject returns None; it is a handle
        self._job = api.CreateJobObject(None, "")
        info = win32job.QueryInformationJobObject(
            self._job, win32job.JobObjectExtendedLimitInformation
        )
        info["BasicLimitInformation"]["LimitFlags"] |= win32job.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        win32job.SetInformationJobObject(
            self._job, win32job.JobObjectExtendedLimitInformation, info
        )

    def assign(self, process: subprocess.Popen[bytes]) -> None:
        """Put a just-started worker into the job (the `WorkerContainment` of the service)."""
        import win32api
        import win32con
        import win32job

        handle = win32api.OpenProcess(
            win32con.PROCESS_SET_QUOTA | win32con.PROCESS_TERMINATE, False, process.pid
        )
        try:
            win32job.AssignProcessToJobObject(self._job, handle)
        finally:
            win32api.CloseHandle(handle)

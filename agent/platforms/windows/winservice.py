"""The Windows service: `custos-agent run` hosted by the Service Control Manager (pywin32).

Installed by the MSI (packaging/windows/custos-agent.wxs) as the service `CustosAgent`,
running as LocalSystem, automatic (delayed) start, its binary the bundled interpreter:

    "C:\\Program Files\\Custos\\runtime\\python.exe" -P -m agent.platforms.windows.winservice

What this layer adds to `agent.commands.run.serve`, and nothing else:
- start: the key file's DACL is checked (`acl.untrusted_readers`); readable by anyone but
  SYSTEM and Administrators, the service refuses to run and says so in the Event Log;
- stop: SERVICE_CONTROL_STOP/SHUTDOWN become `hub.request_stop()`, which the loop passes to a
  running worker; every worker is in a kill-on-close Job Object (`jobs`), so none outlives
  the service, whatever ends it;
- exit: 0 after a stop; a service-specific exit code 2 when the start-up cycle finds the
  agent not enrolled or its policy unusable (the recovery actions the installer sets only
  act on a crash, so this is not restarted); any other failure ends the process without
  reporting "stopped", which the SCM counts as a crash and restarts after a minute;
- events: device arrivals/removals come as SERVICE_CONTROL_DEVICEEVENT
  (`notifications.DeviceEventWatcher`), network changes through iphlpapi, software changes
  through RegNotifyChangeKeyValue;
- log: warnings and errors of the service and its workers go to the Event Log (`eventlog`).

This module only runs on Windows; its decisions live in the modules above, tested on Linux.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import servicemanager
import win32gui
import win32gui_struct
import win32service
import win32serviceutil

from agent.commands.run import serve
from agent.config import load_config
from agent.errors import CustosError
from agent.platforms.windows import acl, eventlog, jobs, notifications
from agent.state import StateDir
from agent.supervisor import EXIT_UNUSABLE
from agent.triggers import TriggerHub, Watcher

log = logging.getLogger(__name__)

SERVICE_NAME = "CustosAgent"
ERROR_SERVICE_SPECIFIC_ERROR = 1066
DEVICE_NOTIFY_SERVICE_HANDLE = 0x1
DEVICE_NOTIFY_ALL_INTERFACE_CLASSES = 0x4


# pywin32's stubs leave some of these unannotated or narrower than the library
_servicemanager: Any = servicemanager
_win32gui: Any = win32gui


class CustosService(win32serviceutil.ServiceFramework):
    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = "Custos 终端合规自查 (Custos Agent)"
    _svc_description_ = (
        "检查本机是否符合单位的终端安全策略并向单位服务器报告。"
        " Checks this PC against the unit's policy and reports to the unit's server."
    )

    def __init__(self, args: Any) -> None:
        super().__init__(args)
        self.hub = TriggerHub()
        self.devices = notifications.DeviceEventWatcher(self.hub, self._register_devices)

    def GetAcceptedControls(self) -> int:  # noqa: N802 - pywin32's name
        framework: Any = super()
        accepted: int = framework.GetAcceptedControls()
        return accepted | win32service.SERVICE_ACCEPT_SHUTDOWN

    def SvcStop(self) -> None:  # noqa: N802
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=60_000)
        self.hub.request_stop()

    SvcShutdown = SvcStop

    def SvcOtherEx(self, control: int, event_type: int, data: Any) -> None:  # noqa: N802
        if control == win32service.SERVICE_CONTROL_DEVICEEVENT and data is not None:
            info = win32gui_struct.UnpackDEV_BROADCAST(data)
            self.devices.on_device_event(event_type, str(getattr(info, "classguid", "")))

    def _register_devices(self) -> Callable[[], None] | None:
        token = _win32gui.RegisterDeviceNotification(
            self.ssh,
            win32gui_struct.PackDEV_BROADCAST_DEVICEINTERFACE(
                notifications.GUID_DEVINTERFACE_USB_DEVICE
            ),
            DEVICE_NOTIFY_SERVICE_HANDLE | DEVICE_NOTIFY_ALL_INTERFACE_CLASSES,
        )
        return lambda: _win32gui.UnregisterDeviceNotification(token)

    def SvcRun(self) -> None:  # noqa: N802
        self.ReportServiceStatus(win32service.SERVICE_RUNNING)
        try:
            code = self._serve()
        except Exception:  # a crash: logged, then the SCM restarts the service
            log.exception("the Custos service failed")
            logging.shutdown()
            os._exit(1)
        self.ReportServiceStatus(
            win32service.SERVICE_STOPPED,
            win32ExitCode=ERROR_SERVICE_SPECIFIC_ERROR if code else 0,
            svcExitCode=code,
        )

    def _serve(self) -> int:
        config = load_config(None, None)
        key = StateDir(config.state_dir).key_path
        if key.exists():
            readers = acl.untrusted_readers(acl.file_sddl(key))
            if readers:
                log.error(
                    "%s can be read by %s: the agent refuses to start. Give %s only SYSTEM "
                    "and Administrators access (reinstalling the agent does).",
                    key,
                    ", ".join(readers),
                    config.state_dir,
                )
                return EXIT_UNUSABLE
        os.environ[eventlog.EVENT_LOG_ENV] = "1"  # the workers log to the Event Log too
        job = jobs.KillOnCloseJob()
        watchers: list[Watcher] = [
            self.devices,
            notifications.NetworkChangeWatcher(self.hub, notifications.iphlpapi_subscription),
            notifications.RegistryChangeWatcher(self.hub, notifications.uninstall_key_waiter()),
        ]
        try:
            return serve(config, self.hub, contain=job.assign, extra_watchers=watchers)
        except CustosError as exc:
            log.error("%s", exc)
            return EXIT_UNUSABLE


def main() -> None:
    eventlog.attach_event_log()
    if len(sys.argv) > 1:  # install/remove/debug by hand, as pywin32 offers it
        win32serviceutil.HandleCommandLine(CustosService)
        return
    _servicemanager.Initialize()
    _servicemanager.PrepareToHostSingle(CustosService)
    _servicemanager.StartServiceCtrlDispatcher()


if __name__ == "__main__":
    main()

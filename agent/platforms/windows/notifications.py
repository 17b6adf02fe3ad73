"""What wakes the Windows service: device, network and registry notifications.

Polling drive letters every 2 s plus the debounce overshoots the 2-s target for a stick, and
re-reading routes through PowerShell is too costly to do often. Windows tells a service about
each of these itself:

- devices: the service control handler receives SERVICE_CONTROL_DEVICEEVENT for the device
  interface classes it registered for (RegisterDeviceNotification with
  DEVICE_NOTIFY_SERVICE_HANDLE | DEVICE_NOTIFY_ALL_INTERFACE_CLASSES); an arrival or removal
  of a USB device, disk, volume or portable device (phone, camera) is a media event;
- network: NotifyIpInterfaceChange and NotifyRouteChange2 (iphlpapi) call back on every
  interface or route change, first once with MibInitialNotification, which is not a change;
- software: RegNotifyChangeKeyValue signals an event when anything under a watched key
  (the Uninstall keys) changes.

The decisions (which events count) are plain functions that the Linux tests feed recorded
inputs; the watchers take their OS subscription as an argument. The few lines that call
Windows are in `winservice` (device events) and in the `iphlpapi_subscription` and
`uninstall_key_waiter` factories below, run only on Windows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.triggers import TriggerHub

log = logging.getLogger(__name__)

# dbt.h
DBT_DEVICEARRIVAL = 0x8000
DBT_DEVICEREMOVECOMPLETE = 0x8004
# Device interface classes whose coming and going is a media event (usbiodef.h, ntddstor.h,
# portabledevice.h). Keyboards, mice, cameras' HID parts and network adapters are not.
GUID_DEVINTERFACE_USB_DEVICE = "{a5dcbf10-6530-11d2-901f-00c04fb951ed}"
GUID_DEVINTERFACE_DISK = "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}"
GUID_DEVINTERFACE_VOLUME = "{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
GUID_DEVINTERFACE_WPD = "{6ac27878-a6fa-4155-ba85-f98f491d4f33}"
MEDIA_INTERFACE_CLASSES = frozenset(
    {
        GUID_DEVINTERFACE_USB_DEVICE,
        GUID_DEVINTERFACE_DISK,
        GUID_DEVINTERFACE_VOLUME,
        GUID_DEVINTERFACE_WPD,
    }
)
# netioapi.h MIB_NOTIFICATION_TYPE
MIB_PARAMETER_NOTIFICATION, MIB_ADD_INSTANCE, MIB_DELETE_INSTANCE, MIB_INITIAL_NOTIFICATION = (
    0,
    1,
    2,
    3,
)


def is_media_device_event(event_type: int, interface_class: str) -> bool:
    """An arrival or removal of a device of a media interface class."""
    return (
        event_type in (DBT_DEVICEARRIVAL, DBT_DEVICEREMOVECOMPLETE)
        and interface_class.strip().lower() in MEDIA_INTERFACE_CLASSES
    )


def is_network_change(notification_type: int) -> bool:
    """Any interface or route notification except the one that confirms the subscription."""
    return notification_type in (MIB_PARAMETER_NOTIFICATION, MIB_ADD_INSTANCE, MIB_DELETE_INSTANCE)


class DeviceEventWatcher:
    """Turns the service's device events into "media" triggers. The service control handler
    calls `on_device_event`; `register` asks Windows for the events and returns how to stop
    (None when the service host has no handle to register, e.g. run from a console)."""

    def __init__(self, hub: TriggerHub, register: Callable[[], Callable[[], None] | None]) -> None:
        self.hub = hub
        self._register = register
        self._unregister: Callable[[], None] | None = None

    def start(self) -> bool:
        self._unregister = self._register()
        return self._unregister is not None

    def on_device_event(self, event_type: int, interface_class: str) -> None:
        if is_media_device_event(event_type, interface_class):
            self.hub.post("media")

    def stop(self) -> None:
        unregister, self._unregister = self._unregister, None
        if unregister is not None:
            unregister()


# A subscription: given the callback for one notification type, start calling it; returns
# how to stop, or raises OSError when Windows refuses.
Subscription = Callable[[Callable[[int], None]], Callable[[], None]]


class NetworkChangeWatcher:
    """Posts "network" when an interface or a route changes."""

    def __init__(self, hub: TriggerHub, subscribe: Subscription) -> None:
        self.hub = hub
        self._subscribe = subscribe
        self._cancel: Callable[[], None] | None = None

    def start(self) -> bool:
        try:
            self._cancel = self._subscribe(self.on_notification)
        except OSError as exc:
            log.info("network notifications not available (%s); polling instead", exc)
            return False
        return True

    def on_notification(self, notification_type: int) -> None:
        if is_network_change(notification_type):
            self.hub.post("network")

    def stop(self) -> None:
        cancel, self._cancel = self._cancel, None
        if cancel is not None:
            cancel()


# Blocks until a watched key changes (True) or `stop` is set (False).
ChangeWaiter = Callable[[threading.Event], bool]


class RegistryChangeWatcher:
    """Posts "software" when an Uninstall key changes (a program installed or removed)."""

    def __init__(self, hub: TriggerHub, wait_for_change: ChangeWaiter) -> None:
        self.hub = hub
        self._wait = wait_for_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        self._thread = threading.Thread(target=self._run, name="custos-registry", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                changed = self._wait(self._stop)
            except OSError as exc:
                log.info("registry notifications stopped: %s", exc)
                return
            if changed:
                self.hub.post("software")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


# --- the Windows side -----------------------------------------------------------------------

_KEY_NOTIFY = 0x0010  # winnt.h
_REG_NOTIFY_CHANGE_NAME, _REG_NOTIFY_CHANGE_LAST_SET = 0x1, 0x4
UNINSTALL_KEYS = (
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall", 0x0100),  # KEY_WOW64_64KEY
    (r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall", 0x0200),  # KEY_WOW64_32KEY
)


def iphlpapi_subscription(callback: Callable[[int], None]) -> Callable[[], None]:
    """NotifyIpInterfaceChange + NotifyRouteChange2 (pywin32 has neither: a small ctypes
    binding). Windows only."""
    import ctypes
    from ctypes import wintypes

    iphlpapi = ctypes.WinDLL("iphlpapi")  # type: ignore[attr-defined,unused-ignore]
    prototype = ctypes.WINFUNCTYPE(  # type: ignore[attr-defined,unused-ignore]
        None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int
    )

    def relay(context: int, row: int, notification_type: int) -> None:
        callback(notification_type)

    native = prototype(relay)
    handles: list[ctypes.c_void_p] = []
    for function in (iphlpapi.NotifyIpInterfaceChange, iphlpapi.NotifyRouteChange2):
        handle = ctypes.c_void_p()
        status = function(0, native, None, wintypes.BOOLEAN(True), ctypes.byref(handle))
        if status != 0:
            raise OSError(status, f"{function.__name__} failed")
        handles.append(handle)

    def cancel() -> None:
        for handle in handles:
            iphlpapi.CancelMibChangeNotify2(handle)
        keepalive.clear()

    keepalive = [native]  # Windows calls `native` until cancelled: it must not be collected
    return cancel


def uninstall_key_waiter() -> ChangeWaiter:
    """Waits on RegNotifyChangeKeyValue for both views of the Uninstall key. Windows only."""
    import win32api
    import win32con
    import win32event

    api: Any = win32api  # the stubs' signatures of these two are narrower than pywin32's
    keys = [
        api.RegOpenKeyEx(win32con.HKEY_LOCAL_MACHINE, path, 0, _KEY_NOTIFY | view)
        for path, view in UNINSTALL_KEYS
    ]
    events = [win32event.CreateEvent(None, False, False, None) for _ in keys]
    filters = _REG_NOTIFY_CHANGE_NAME | _REG_NOTIFY_CHANGE_LAST_SET

    def arm(index: int) -> None:
        api.RegNotifyChangeKeyValue(keys[index], True, filters, events[index], True)

    for index in range(len(keys)):
        arm(index)

    def wait(stop: threading.Event) -> bool:
        while not stop.is_set():
            found = win32event.WaitForMultipleObjects(events, False, 1000)
            if found == win32event.WAIT_TIMEOUT:
                continue
            arm(found - win32event.WAIT_OBJECT_0)  # a notification fires once: re-arm
            return True
        return False

    return wait

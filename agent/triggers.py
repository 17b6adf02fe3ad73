"""What wakes the service between scheduled checks.

A USB stick mounted at 10:02 must not wait for the 11:00 check. Watchers run in their own
threads and post a trigger kind to the `TriggerHub`; the service loop waits on the hub and
runs a check once events have settled (debounced: no new event for DEBOUNCE seconds, at most
MAX_SETTLE after the first), so one stick that fires a dozen events makes one check.

    media     a directory appears or disappears under a watched mount root (watchdog):
              Linux /media, /run/media, /mnt; macOS /Volumes; config `watch_roots` overrides.
              Linux also: kernel uevents for block and usb devices (netlink), when the
              kernel lets this process listen. Windows service: device-change notifications
              (agent.platforms.windows.notifications); `custos-agent run` started by hand
              on Windows polls disk partitions every 2 s instead.
    network   interfaces (names, up flags, addresses) or default routes changed (polled
              every 2 s: a cheap signature, no process or socket listing)

Mount roots are watched non-recursively, together with their direct subdirectories that are
not themselves mount points (/media/<user>, where desktops mount sticks). A mounted stick's
own content is never watched: copying files onto it wakes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import psutil
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from agent.platforms.base import PlatformAdapter

log = logging.getLogger(__name__)

DEBOUNCE = 0.5
MAX_SETTLE = 3.0
POLL_SECONDS = 2.0
NETLINK_KOBJECT_UEVENT = 15
_UEVENT_SUBSYSTEMS = {b"block": {b"add", b"remove", b"change"}, b"usb": {b"add", b"remove"}}


class TriggerHub:
    """Where watchers post what happened and the service loop waits for it.

    The condition uses a re-entrant lock because a signal handler (SIGTERM) runs on the main
    thread, possibly while that thread is inside `wait`, and calls `request_stop`.
    """

    def __init__(
        self,
        debounce: float = DEBOUNCE,
        max_settle: float = MAX_SETTLE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.debounce = debounce
        self.max_settle = max_settle
        self._clock = clock
        self._condition = threading.Condition(threading.RLock())
        self._pending: set[str] = set()
        self._first = 0.0
        self._last = 0.0
        self._stopping = False

    def post(self, kind: str) -> None:
        with self._condition:
            now = self._clock()
            if not self._pending:
                self._first = now
            self._pending.add(kind)
            self._last = now
            self._condition.notify_all()

    def request_stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()

    def stopping(self) -> bool:
        return self._stopping

    def wait(self, timeout: float | None) -> frozenset[str]:
        """The trigger kinds that fired, once settled; empty when `timeout` seconds passed
        with nothing pending, or when a stop was requested."""
        deadline = None if timeout is None else self._clock() + max(timeout, 0.0)
        with self._condition:
            while not self._stopping:
                now = self._clock()
                if self._pending:
                    settle_at = min(self._last + self.debounce, self._first + self.max_settle)
                    if now >= settle_at:
                        fired = frozenset(self._pending)
                        self._pending.clear()
                        return fired
                    self._condition.wait(settle_at - now)
                elif deadline is not None and now >= deadline:
                    return frozenset()
                else:
                    self._condition.wait(None if deadline is None else deadline - now)
            return frozenset()


class Watcher(Protocol):
    def start(self) -> bool:
        """Begin watching; False when this watcher cannot work here (it then does nothing)."""
        ...

    def stop(self) -> None: ...


# --- mount roots (watchdog) ------------------------------------------------------------------


def default_watch_roots(platform: str) -> list[Path]:
    if platform == "macos":
        return [Path("/Volumes")]
    if platform == "windows":
        return []  # drive letters, not directories: see PollWatcher(partitions_signature)
    return [Path("/media"), Path("/run/media"), Path("/mnt")]


class _DirectoryEvents(FileSystemEventHandler):
    """Directory created, deleted or moved: call back. File events are ignored."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def on_created(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            self._on_change()

    def on_deleted(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            self._on_change()

    def on_moved(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            self._on_change()


class MountWatcher:
    def __init__(self, roots: Iterable[Path], hub: TriggerHub) -> None:
        self.roots = [root for root in roots if root.is_dir()]
        self.hub = hub
        self._observer: BaseObserver | None = None
        self._handler = _DirectoryEvents(self._changed)
        self._watches: dict[Path, ObservedWatch] = {}
        self._lock = threading.Lock()

    def start(self) -> bool:
        if not self.roots:
            log.info("no mount root to watch")
            return False
        self._observer = Observer()
        self._observer.daemon = True
        self._refresh()
        self._observer.start()
        log.info("watching %s for removable media", ", ".join(map(str, self.roots)))
        return True

    def _wanted(self) -> set[Path]:
        wanted: set[Path] = set()
        for root in self.roots:
            if not root.is_dir():
                continue
            wanted.add(root)
            with contextlib.suppress(OSError):
                for child in root.iterdir():
                    if child.is_dir() and not child.is_symlink() and not os.path.ismount(child):
                        wanted.add(child)
        return wanted

    def _refresh(self) -> None:
        """Follow the second level: /media/<user> appears when its user first mounts."""
        observer = self._observer
        if observer is None:
            return
        with self._lock:
            wanted = self._wanted()
            for path in set(self._watches) - wanted:
                with contextlib.suppress(KeyError, OSError):
                    observer.unschedule(self._watches.pop(path))
            for path in wanted - set(self._watches):
                try:
                    self._watches[path] = observer.schedule(
                        self._handler, str(path), recursive=False
                    )
                except OSError as exc:
                    log.info("cannot watch %s: %s", path, exc)

    def _changed(self) -> None:
        self.hub.post("media")
        self._refresh()

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)


# --- kernel uevents (Linux) ------------------------------------------------------------------


def is_media_uevent(message: bytes) -> bool:
    """A kernel uevent ("add@/devices/...\\0ACTION=add\\0SUBSYSTEM=block\\0...") about a
    block or USB device appearing, going or changing medium."""
    fields = dict(
        part.split(b"=", 1) for part in message.split(b"\x00") if b"=" in part and b"@" not in part
    )
    actions = _UEVENT_SUBSYSTEMS.get(fields.get(b"SUBSYSTEM", b""))
    return actions is not None and fields.get(b"ACTION", b"") in actions


class UeventWatcher:
    """Kernel uevents through NETLINK_KOBJECT_UEVENT; needs no root on most systems, but
    containers and hardened kernels may refuse, and then this watcher quietly stays off."""

    def __init__(self, hub: TriggerHub) -> None:
        self.hub = hub
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> bool:
        family = getattr(socket, "AF_NETLINK", None)
        if family is None:
            return False
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
            sock.bind((0, 1))  # port id chosen by the kernel, multicast group 1: kernel events
        except OSError as exc:
            log.info("kernel uevents not available (%s); relying on mount roots", exc)
            return False
        sock.settimeout(1.0)
        self._socket = sock
        self._thread = threading.Thread(
            target=self._listen, args=(sock,), name="custos-uevents", daemon=True
        )
        self._thread.start()
        return True

    def _listen(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                message = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                if not self._stop.is_set():
                    log.info("uevent socket closed; relying on mount roots")
                return
            if is_media_uevent(message):
                self.hub.post("media")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()


# --- polled signatures ------------------------------------------------------------------------


class NetworkSignature:
    """Interface names, up flags and addresses, and the default routes, as one string
    (a few hundred bytes, compared as it is: the supervisor keeps hashlib's OpenSSL out).

    Routes come from the adapter: /proc on Linux and `netstat -rn` on macOS are cheap enough
    for every poll; Windows asks PowerShell, far too costly every 2 s, so there the routes
    are re-read at most every `route_every` seconds, and at once when interfaces change.
    """

    def __init__(
        self,
        platform: PlatformAdapter,
        route_every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.route_every = (
            route_every
            if route_every is not None
            else (30.0 if platform.name == "windows" else 0.0)
        )
        self._clock = clock
        self._interfaces = ""
        self._routes = ""
        self._routes_read = float("-inf")

    def _interface_part(self) -> str:
        stats = psutil.net_if_stats()
        parts: list[str] = []
        for name, addresses in sorted(psutil.net_if_addrs().items()):
            stat = stats.get(name)
            found = sorted(a.address for a in addresses if a.family != psutil.AF_LINK)
            parts.append(f"{name}|{bool(stat and stat.isup)}|{','.join(found)}")
        return "\n".join(parts)

    def _route_part(self) -> str:
        try:
            routes = self.platform.routes()
        except Exception as exc:  # a failing route source must not stop interface watching
            return f"routes-error|{type(exc).__name__}"
        return "\n".join(
            sorted(f"{r.destination}|{r.gateway}|{r.interface}" for r in routes if r.is_default)
        )

    def __call__(self) -> str:
        interfaces = self._interface_part()
        now = self._clock()
        if interfaces != self._interfaces or now - self._routes_read >= self.route_every:
            self._routes = self._route_part()
            self._routes_read = now
        self._interfaces = interfaces
        return interfaces + "\n--\n" + self._routes


def partitions_signature() -> str:
    """Mounted partitions (Windows drive letters come and go with sticks)."""
    parts = sorted(f"{p.device}|{p.mountpoint}" for p in psutil.disk_partitions(all=False))
    return "\n".join(parts)


class PollWatcher:
    """Compute `signature()` every `interval` seconds; post `kind` when it changes."""

    def __init__(
        self,
        kind: str,
        signature: Callable[[], str],
        hub: TriggerHub,
        interval: float = POLL_SECONDS,
    ) -> None:
        self.kind = kind
        self.signature = signature
        self.hub = hub
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _safe_signature(self) -> str | None:
        try:
            return self.signature()
        except Exception as exc:  # a hiccup in one poll is not a change
            log.debug("%s signature failed: %s", self.kind, exc)
            return None

    def start(self) -> bool:
        self._thread = threading.Thread(
            target=self._poll, name=f"custos-poll-{self.kind}", daemon=True
        )
        self._thread.start()
        return True

    def _poll(self) -> None:
        last = self._safe_signature()
        while not self._stop.wait(self.interval):
            current = self._safe_signature()
            if current is None:
                continue
            if last is not None and current != last:
                self.hub.post(self.kind)
            last = current

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


# --- all of them -------------------------------------------------------------------------------


class Triggers:
    """The watchers that are running; `stop` ends them all."""

    def __init__(self, watchers: Sequence[Watcher]) -> None:
        self.watchers = list(watchers)

    def stop(self) -> None:
        for watcher in self.watchers:
            try:
                watcher.stop()
            except Exception as exc:  # stopping one must not keep the others running
                log.warning("stopping %s failed: %s", type(watcher).__name__, exc)


def start_triggers(
    hub: TriggerHub,
    platform: PlatformAdapter,
    watch_roots: Sequence[Path] | None = None,
    poll_interval: float = POLL_SECONDS,
    extra: Sequence[Watcher] = (),
) -> Triggers:
    """Start the watchers for this platform. `extra` are the platform's own event sources;
    on Windows they replace the partition poll (device notifications are immediate)."""
    roots = list(watch_roots) if watch_roots is not None else default_watch_roots(platform.name)
    candidates: list[Watcher] = [MountWatcher(roots, hub), *extra]
    if platform.name == "linux":
        candidates.append(UeventWatcher(hub))
    if platform.name == "windows" and not extra:
        candidates.append(PollWatcher("media", partitions_signature, hub, poll_interval))
    candidates.append(PollWatcher("network", NetworkSignature(platform), hub, poll_interval))
    started = [watcher for watcher in candidates if watcher.start()]
    return Triggers(started)

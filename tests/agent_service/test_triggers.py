"""What wakes the service: debounced hub, mount roots (real inotify/FSEvents via watchdog),
kernel uevent parsing, polled network signatures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agent.facts import Route
from agent.platforms import current_platform
from agent.triggers import (
    MountWatcher,
    NetworkSignature,
    PollWatcher,
    TriggerHub,
    UeventWatcher,
    is_media_uevent,
    start_triggers,
)

# --- the hub ------------------------------------------------------------------------------------


def test_hub_debounces_a_burst_into_one_wakeup() -> None:
    hub = TriggerHub(debounce=0.2)
    started = time.monotonic()
    for kind in ("media", "media", "network"):
        hub.post(kind)
        time.sleep(0.05)
    assert hub.wait(5) == {"media", "network"}
    assert 0.2 <= time.monotonic() - started < 1.5
    assert hub.wait(0.1) == frozenset()  # consumed


def test_hub_serves_a_storm_after_max_settle() -> None:
    hub = TriggerHub(debounce=0.3, max_settle=0.6)
    stop = threading.Event()

    def storm() -> None:
        while not stop.is_set():
            hub.post("media")
            time.sleep(0.05)

    thread = threading.Thread(target=storm)
    thread.start()
    try:
        started = time.monotonic()
        assert hub.wait(5) == {"media"}
        assert time.monotonic() - started < 1.5
    finally:
        stop.set()
        thread.join()


def test_hub_times_out_and_stops() -> None:
    hub = TriggerHub()
    started = time.monotonic()
    assert hub.wait(0.2) == frozenset()
    assert time.monotonic() - started >= 0.2
    threading.Timer(0.1, hub.request_stop).start()
    assert hub.wait(None) == frozenset() and hub.stopping()


# --- mount roots -------------------------------------------------------------------------------


def woke_within(hub: TriggerHub, seconds: float) -> float | None:
    started = time.monotonic()
    fired = hub.wait(seconds)
    return time.monotonic() - started if fired == {"media"} else None


def test_a_directory_under_a_watched_root_wakes_within_2_seconds(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()  # /media/<user> exists before the stick
    hub = TriggerHub()
    watcher = MountWatcher([tmp_path, tmp_path / "missing"], hub)
    assert watcher.start()
    try:
        (tmp_path / "STICK").mkdir()  # /mnt/STICK style
        assert woke_within(hub, 2.0) is not None
        (tmp_path / "alice" / "KINGSTON").mkdir()  # /media/alice/KINGSTON style
        assert woke_within(hub, 2.0) is not None
        (tmp_path / "alice" / "KINGSTON").rmdir()  # unplugged
        assert woke_within(hub, 2.0) is not None
        (tmp_path / "bob").mkdir()  # a user's first stick: its directory appears...
        assert woke_within(hub, 2.0) is not None
        (tmp_path / "bob" / "SANDISK").mkdir()  # ...and is watched from then on
        assert woke_within(hub, 2.0) is not None
        (tmp_path / "notes.txt").write_text("a file is no medium")
        (tmp_path / "alice" / "notes.txt").write_text("nor here")
        (tmp_path / "bob" / "SANDISK" / "photos").mkdir()  # inside a stick: never watched
        assert hub.wait(1.0) == frozenset()
    finally:
        watcher.stop()


def test_no_existing_root_means_no_watcher(tmp_path: Path) -> None:
    assert not MountWatcher([tmp_path / "nope"], TriggerHub()).start()


# --- kernel uevents ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "media"),
    [
        (
            b"add@/devices/pci0000:00/usb1/1-1\x00ACTION=add\x00SUBSYSTEM=usb\x00DEVTYPE=usb_device",
            True,
        ),
        (b"remove@/devices/.../block/sdb\x00ACTION=remove\x00SUBSYSTEM=block\x00DEVNAME=sdb", True),
        (
            b"change@/devices/.../block/sr0\x00ACTION=change\x00SUBSYSTEM=block\x00DISK_MEDIA_CHANGE=1",
            True,
        ),
        (b"change@/devices/.../usb1/1-1\x00ACTION=change\x00SUBSYSTEM=usb", False),
        (b"add@/devices/virtual/net/veth0\x00ACTION=add\x00SUBSYSTEM=net", False),
        (b"libudev\x00garbage", False),
    ],
)
def test_uevent_filter(message: bytes, media: bool) -> None:
    assert is_media_uevent(message) is media


def test_uevent_watcher_starts_or_stays_off_quietly() -> None:
    watcher = UeventWatcher(TriggerHub())
    started = watcher.start()  # depends on the kernel and the container
    watcher.stop()
    assert isinstance(started, bool)


# --- polled signatures -------------------------------------------------------------------------


def test_poll_watcher_posts_on_change_only() -> None:
    values = iter(["a", "a", "b", "b", "b"])
    last = ["b"]

    def signature() -> str:
        last[0] = next(values, last[0])
        return last[0]

    hub = TriggerHub(debounce=0.05)
    watcher = PollWatcher("network", signature, hub, interval=0.05)
    watcher.start()
    try:
        assert hub.wait(2) == {"network"}
        assert hub.wait(0.4) == frozenset()  # "b" stays "b"
    finally:
        watcher.stop()


class FakePlatform:
    def __init__(self, name: str) -> None:
        self.name = name
        self.route_reads = 0
        self.gateway = "10.0.0.1"

    def routes(self) -> tuple[Route, ...]:
        self.route_reads += 1
        return (
            Route("0.0.0.0/0", self.gateway, "eth0", 100, "ipv4"),
            Route("10.0.0.0/8", "", "eth0", 100, "ipv4"),
        )


def test_network_signature_follows_default_routes() -> None:
    platform = FakePlatform("linux")
    signature = NetworkSignature(platform)  # type: ignore[arg-type]
    before = signature()
    assert signature() == before
    platform.gateway = "192.168.8.1"  # a phone's hotspot became the way out
    assert signature() != before
    assert platform.route_reads == 3  # cheap on Linux: every poll


def test_network_signature_spares_windows_powershell() -> None:
    now = [0.0]
    platform = FakePlatform("windows")
    signature = NetworkSignature(platform, clock=lambda: now[0])  # type: ignore[arg-type]
    signature()
    for _ in range(10):
        now[0] += 2
        signature()
    assert platform.route_reads == 1  # 20 s < 30 s
    now[0] += 12
    signature()
    assert platform.route_reads == 2


def test_start_triggers_watches_the_configured_roots(tmp_path: Path) -> None:
    hub = TriggerHub()
    triggers = start_triggers(hub, current_platform(), [tmp_path], poll_interval=0.2)
    try:
        kinds = {type(w).__name__ for w in triggers.watchers}
        assert {"MountWatcher", "PollWatcher"} <= kinds
        (tmp_path / "USB").mkdir()
        assert hub.wait(2.0) == {"media"}
    finally:
        triggers.stop()

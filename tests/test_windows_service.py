"""The Windows service's decisions, with the inputs Windows would hand it replayed on Linux.

What Windows delivers (device events with their interface class, iphlpapi notification
types, security descriptors as SDDL) is recorded in tests/fixtures/windows/service_events.json
and acl_sddl.json, composed from the documented constants and formats (see the fixture README:
reconstructed, not recorded on a machine). The pywin32 calls themselves
(agent.platforms.windows.winservice, jobs, the `*_subscription`/`*_waiter` factories) run only
on Windows, in .github/workflows/windows.yml.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.platforms.windows import acl, install
from agent.platforms.windows.notifications import (
    DeviceEventWatcher,
    NetworkChangeWatcher,
    RegistryChangeWatcher,
)
from agent.supervisor import WorkerRunner, pick_trigger
from agent.triggers import TriggerHub, start_triggers

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "windows"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fired(hub: TriggerHub) -> frozenset[str]:
    return hub.wait(0.5)


# --- device events ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", recorded("service_events.json")["device"], ids=lambda c: c["what"])
def test_device_events_wake_the_service_for_media_only(case: dict[str, Any]) -> None:
    hub = TriggerHub(debounce=0.05, max_settle=0.2)
    unregistered: list[bool] = []
    watcher = DeviceEventWatcher(hub, lambda: lambda: unregistered.append(True))
    assert watcher.start()
    for event in case["events"]:
        watcher.on_device_event(int(event["event_type"], 16), event["interface_class"])
    assert fired(hub) == ({"media"} if case["media"] else frozenset())
    watcher.stop()
    assert unregistered == [True]


def test_without_a_service_handle_device_events_are_off_and_polling_stays() -> None:
    assert not DeviceEventWatcher(TriggerHub(), lambda: None).start()


# --- network notifications -------------------------------------------------------------------


def test_network_notifications_wake_the_service_but_not_the_initial_one() -> None:
    hub = TriggerHub(debounce=0.05, max_settle=0.2)
    callbacks: list[Callable[[int], None]] = []
    cancelled: list[bool] = []

    def subscribe(callback: Callable[[int], None]) -> Callable[[], None]:
        callbacks.append(callback)
        return lambda: cancelled.append(True)

    watcher = NetworkChangeWatcher(hub, subscribe)
    assert watcher.start()
    [callback] = callbacks
    sequence = recorded("service_events.json")["network"]
    callback(sequence["subscribed"])  # MibInitialNotification: the subscription works
    assert fired(hub) == frozenset()
    for notification in sequence["wifi_joined"]:
        callback(notification)
    assert fired(hub) == {"network"}
    watcher.stop()
    assert cancelled == [True]


def test_a_refused_network_subscription_leaves_the_poll_to_do_it() -> None:
    def refuse(callback: Callable[[int], None]) -> Callable[[], None]:
        raise OSError(50, "NotifyIpInterfaceChange failed")

    assert not NetworkChangeWatcher(TriggerHub(), refuse).start()


# --- registry notifications ------------------------------------------------------------------


def test_an_uninstall_key_change_wakes_the_service_for_software() -> None:
    hub = TriggerHub(debounce=0.05, max_settle=0.2)
    changes = iter([True])

    def wait(stop: threading.Event) -> bool:
        change = next(changes, None)
        if change is None:
            stop.wait()
            return False
        return change

    watcher = RegistryChangeWatcher(hub, wait)
    watcher.start()
    assert fired(hub) == {"software"}
    watcher.stop()
    assert pick_trigger(frozenset({"software", "schedule"})) == "software"


def test_platform_watchers_replace_the_partition_poll() -> None:
    class Windows:
        name = "windows"

        def routes(self) -> tuple[()]:
            return ()

    started: list[str] = []

    class Extra:
        def start(self) -> bool:
            started.append("extra")
            return True

        def stop(self) -> None:
            started.append("stopped")

    hub = TriggerHub()
    triggers = start_triggers(hub, Windows(), watch_roots=[], extra=[Extra()])  # type: ignore[arg-type]
    names = [type(watcher).__name__ for watcher in triggers.watchers]
    kinds = [getattr(watcher, "kind", "") for watcher in triggers.watchers]
    triggers.stop()
    assert names == ["Extra", "PollWatcher"]
    assert kinds == ["", "network"]  # no "media" poll: device events do that
    assert started == ["extra", "stopped"]


# --- the key's ACL ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", recorded("acl_sddl.json"), ids=lambda c: c["what"])
def test_the_service_refuses_a_key_that_others_can_read(case: dict[str, Any]) -> None:
    assert acl.untrusted_readers(case["sddl"]) == case["untrusted_readers"]


def test_the_installer_gives_the_state_directory_an_acl_that_passes_the_check() -> None:
    assert acl.untrusted_readers(acl.STATE_DIR_SDDL) == []


# --- workers in the job ----------------------------------------------------------------------


def test_every_worker_is_handed_to_the_platforms_containment_while_it_runs(tmp_path: Path) -> None:
    from agent.config import load_config

    seen: list[tuple[int, bool]] = []

    def contain(process: subprocess.Popen[bytes]) -> None:
        seen.append((process.pid, process.poll() is None))

    result = '{"delivered": 0, "rejected": 0, "remaining": 0, "failed": false}'
    code = f"import time; time.sleep(0.2); print({result!r})"
    runner = WorkerRunner(
        load_config(None, tmp_path), command=[sys.executable, "-c", code], contain=contain
    )
    runner.cycle("schedule", lambda: False)
    runner.flush(lambda: False)
    assert len(seen) == 2
    assert all(alive for _, alive in seen)


# --- the installer's configure step -----------------------------------------------------------


def test_configure_writes_the_msi_asset_fields_and_keeps_the_others(tmp_path: Path) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text(
        "asset:\n  machine_number: BJ-1\n  department: 办公室\ncheck_interval_override: 600\n",
        encoding="utf-8",
    )
    merged = install.merge_asset_fields(
        config, {"machine_number": "", "department": "财务科", "purpose": "intranet"}
    )
    install.write_config(config, merged)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert data == {
        "asset": {"machine_number": "BJ-1", "department": "财务科", "purpose": "intranet"},
        "check_interval_override": 600,
    }


def test_configure_takes_the_token_from_tokenfile_when_token_is_not_given(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text("\ufeffct_abc123\r\nignored\r\n", encoding="utf-8")
    args = install.build_parser().parse_args(
        ["configure", "--server", "https://c.example", "--token-file", str(token_file)]
    )
    token = install.token_from(args)
    assert token == "ct_abc123"  # noqa: S105 - a test token
    assert install.enroll_argv(args, token) == [
        "enroll", "--server", "https://c.example", "--token", "ct_abc123",
    ]  # fmt: skip


def test_an_upgrade_does_not_enroll_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Configure on a machine that is enrolled: identity kept, no enrollment attempted."""
    monkeypatch.setattr(install, "default_config_path", lambda: tmp_path / "agent.yaml")
    monkeypatch.setattr(install, "default_state_dir", lambda: tmp_path / "state")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "enrollment.json").write_text("{}", encoding="utf-8")
    args = install.build_parser().parse_args(
        ["configure", "--server", "https://127.0.0.1:9", "--token", "t", "--purpose", "intranet"]
    )
    started = time.monotonic()
    assert install.configure(args) == 0
    assert time.monotonic() - started < 5  # no connection was tried
    assert yaml.safe_load((tmp_path / "agent.yaml").read_text(encoding="utf-8")) == {
        "asset": {"purpose": "intranet"}
    }


def test_uninstall_keeps_the_state_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Custos"
    monkeypatch.setattr(install, "default_config_path", lambda: root / "agent.yaml")
    monkeypatch.setattr(install, "default_state_dir", lambda: root / "state")
    (root / "state").mkdir(parents=True)
    assert install.main(["uninstall"]) == 0
    assert (root / "state").is_dir()
    assert install.main(["uninstall", "--remove-state", "1"]) == 0
    assert not root.exists()

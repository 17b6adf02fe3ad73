"""Hosts that stop reporting become silent: the sweep, its command, and its thread."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from server.fleet.models import Host, HostStatus
from server.fleet.silence import sweep
from server.sweeper import Sweeper

pytestmark = pytest.mark.server

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)


def make_host(
    county: Any, name: str, last_seen: dt.datetime | None, interval: int = 3600, **fields: Any
) -> Host:
    return Host.objects.create(
        host_id="h_" + name.encode().hex().ljust(32, "0")[:32],
        unit=county,
        public_key=b"\x00" * 32,
        first_seen=NOW - dt.timedelta(days=30),
        last_seen=last_seen,
        report_interval_seconds=interval,
        hostname=name,
        **fields,
    )


def statuses() -> dict[str, str]:
    return dict(Host.objects.values_list("hostname", "status"))


def test_a_host_is_silent_after_missing_three_reports_plus_slack(county: Any) -> None:
    make_host(county, "on-time", NOW - dt.timedelta(hours=3))
    make_host(county, "in-slack", NOW - dt.timedelta(hours=3, minutes=17))
    make_host(county, "overdue", NOW - dt.timedelta(hours=3, minutes=19))

    assert sweep(NOW, missed=3) == 1

    assert statuses() == {"on-time": "active", "in-slack": "active", "overdue": "silent"}
    overdue = Host.objects.get(hostname="overdue")
    assert overdue.silent_since == NOW - dt.timedelta(hours=3, minutes=19) + dt.timedelta(hours=3)


def test_each_host_is_judged_by_its_own_interval(county: Any) -> None:
    make_host(county, "hourly", NOW - dt.timedelta(hours=2), interval=3600)
    make_host(county, "every-15-min", NOW - dt.timedelta(hours=1), interval=900)

    sweep(NOW, missed=3)

    assert statuses() == {"hourly": "active", "every-15-min": "silent"}


def test_a_host_that_never_reported_counts_from_its_enrollment(county: Any) -> None:
    make_host(county, "never", None)

    sweep(NOW, missed=3)

    never = Host.objects.get()
    assert never.status == "silent"
    assert never.silent_since == never.first_seen + dt.timedelta(hours=3)


def test_revoked_and_already_silent_hosts_are_left_alone(county: Any) -> None:
    long_ago = NOW - dt.timedelta(days=5)
    make_host(county, "revoked", long_ago, status=HostStatus.REVOKED)
    make_host(county, "silent", long_ago, status=HostStatus.SILENT, silent_since=long_ago)

    assert sweep(NOW, missed=3) == 0
    assert Host.objects.get(hostname="silent").silent_since == long_ago


def test_the_sweep_command_uses_the_configured_threshold(county: Any, settings: Any) -> None:
    settings.CUSTOS_SILENT_AFTER_MISSED = 100
    make_host(county, "days-behind", dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2))
    out = StringIO()

    call_command("sweep", stdout=out)
    assert out.getvalue().strip() == "0 host(s) marked silent"

    settings.CUSTOS_SILENT_AFTER_MISSED = 3
    call_command("sweep", stdout=out)
    assert "1 host(s) marked silent" in out.getvalue()


def test_the_sweeper_thread_sweeps_at_once_then_every_interval_and_stops_promptly() -> None:
    rounds: list[float] = []
    three = threading.Event()

    def count() -> None:
        rounds.append(time.monotonic())
        if len(rounds) == 3:
            three.set()

    sweeper = Sweeper(count, every_seconds=0.05)
    sweeper.start()
    assert three.wait(5)
    sweeper.stop(timeout=5)

    assert not sweeper.running
    done = len(rounds)
    time.sleep(0.2)
    assert len(rounds) == done  # nothing after stop


def test_a_slow_interval_does_not_delay_stopping() -> None:
    started = threading.Event()
    sweeper = Sweeper(started.set, every_seconds=3600)
    sweeper.start()
    assert started.wait(5)

    begun = time.monotonic()
    sweeper.stop(timeout=5)

    assert not sweeper.running and time.monotonic() - begun < 2


def test_a_failing_sweep_is_logged_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []
    retried = threading.Event()

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) >= 2:
            retried.set()
        raise RuntimeError("database away")

    sweeper = Sweeper(flaky, every_seconds=0.01)
    with caplog.at_level(logging.ERROR, logger="server.sweeper"):
        sweeper.start()
        assert retried.wait(5)
        sweeper.stop(timeout=5)

    assert "the silent-host sweep failed" in caplog.text

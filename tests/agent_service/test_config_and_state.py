"""The service's config keys, and the state directory's tolerance of damaged files."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import pytest

from agent.commands.check import SERVER_POLICY
from agent.config import DEFAULT_FULL_REFRESH_DAYS, DEFAULT_SPOOL_MAX_BYTES, load_config
from agent.errors import ConfigError
from agent.state import POLICY_FILE, Delivery, StateDir


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "agent.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_service_keys_default_when_absent(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, "lang: zh\n"), tmp_path / "state")
    assert config.watch_roots is None
    assert config.spool_max_bytes == DEFAULT_SPOOL_MAX_BYTES == 50 * 1024 * 1024
    assert config.full_refresh_days == DEFAULT_FULL_REFRESH_DAYS == 30
    assert config.check_interval_override is None


def test_service_keys_are_read(tmp_path: Path) -> None:
    path = config_file(
        tmp_path,
        "watch_roots: [/media, mounts]\n"
        "spool_max_bytes: 1048576\n"
        "full_refresh_days: 7\n"
        "check_interval_override: 60\n",
    )
    config = load_config(path, tmp_path / "state")
    # a relative root is relative to the config file, like `policy:`
    assert config.watch_roots == (Path("/media"), path.parent / "mounts")
    assert (config.spool_max_bytes, config.full_refresh_days) == (1048576, 7)
    assert config.check_interval_override == 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("watch_roots: /media\n", "watch_roots: expected a list"),
        ("watch_roots: [/media, 3]\n", "watch_roots[1]: expected a directory path"),
        ("spool_max_bytes: lots\n", "spool_max_bytes: expected a positive whole number"),
        ("spool_max_bytes: 0\n", "spool_max_bytes: expected a positive whole number"),
        ("full_refresh_days: true\n", "full_refresh_days: expected a positive whole number"),
        ("check_interval_override: -5\n", "check_interval_override: expected a positive"),
        ("check_interval: 5\n", "check_interval: unknown key"),
    ],
)
def test_bad_service_keys_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = config_file(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_config(path, tmp_path / "state")
    assert str(caught.value).startswith(str(path))


def test_the_service_stores_the_policy_where_check_looks() -> None:
    assert POLICY_FILE == SERVER_POLICY


def test_damaged_rebuildable_files_are_started_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    for path in (state.delivery_path, state.commands_path, state.policy_info_path):
        path.write_text('{"half', encoding="utf-8")
    state.policy_path.write_text("id: x\n", encoding="utf-8")
    caplog.set_level(logging.WARNING)
    assert state.load_delivery() == Delivery()
    assert state.executed_commands() == {}
    assert state.load_policy_info() is None
    assert caplog.text.count("starting it afresh") == 3


def test_a_damaged_enrollment_is_an_error_not_a_new_identity(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    state.enrollment_path.write_text('{"server": "x"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid enrollment"):
        state.load_enrollment()


def test_a_damaged_seq_continues_above_every_known_seq(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    state.save_delivery(Delivery(last_ack_seq=40))
    (state.rejected_dir / "00000000000000000057-full-fail.json").write_bytes(b"{}")
    state.seq_path.write_bytes(b"\x00\x00garbage")
    assert state.next_seq() == 58
    assert state.next_seq() == 59


def test_executed_commands_are_forgotten_once_expired(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.prepare()
    now = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)
    state.record_commands({"old": now + dt.timedelta(minutes=5)}, now)
    state.record_commands({"new": now + dt.timedelta(hours=2)}, now + dt.timedelta(hours=1))
    assert set(json.loads(state.commands_path.read_text())) == {"new"}

"""The spool on real files: order, names, quarantine, leftovers, and the size bound's rule."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.protocol.envelope import encode_envelope
from agent.spool import Spool, entry_name

HOST = "h_" + "0" * 32
KEY = Ed25519PrivateKey.generate()
NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)


def envelope(seq: int, padding: int = 0) -> bytes:
    # identity encoding keeps the size predictable
    payload = b'{"pad":"' + b"x" * padding + b'"}'
    return encode_envelope(KEY, HOST, seq, NOW, payload, compress=False)


def make_spool(tmp_path: Path, max_bytes: int = 10**9) -> Spool:
    spool = Spool(tmp_path / "spool", tmp_path / "quarantine", tmp_path / "rejected", max_bytes)
    spool.prepare()
    return spool


def test_names_order_and_removal(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    for seq, kind, failing in [(3, "heartbeat", False), (1, "full", True), (12, "full", False)]:
        spool.add(seq, kind, failing, envelope(seq))
    names = [entry.name for entry in spool.entries()]
    assert names == [
        "00000000000000000001-full-fail.json",
        "00000000000000000003-heartbeat-ok.json",
        "00000000000000000012-full-ok.json",
    ]
    first = spool.entries()[0]
    assert spool.read(first) == envelope(1)  # the exact request body
    spool.remove(first)
    assert [e.seq for e in spool.entries()] == [3, 12]
    assert spool.count() == 2


def test_a_seq_is_never_spooled_twice(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    spool.add(5, "full", False, envelope(5))
    with pytest.raises(FileExistsError):
        spool.add(5, "heartbeat", False, envelope(5))


def test_corrupt_file_is_quarantined_and_does_not_block_the_queue(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = make_spool(tmp_path)
    spool.add(1, "full", False, envelope(1))
    spool.add(2, "heartbeat", False, envelope(2))
    (spool.directory / entry_name(1, "full", False)).write_bytes(b'{"truncated": ')
    (spool.directory / "notes.txt").write_text("someone's notes")
    caplog.set_level(logging.WARNING, logger="agent.spool")
    delivered = [seq for entry in spool.entries() if spool.read(entry) for seq in [entry.seq]]
    assert delivered == [2]
    assert sorted(p.name for p in spool.quarantine_dir.iterdir()) == [
        "00000000000000000001-full-ok.json",
        "00000000000000000001-full-ok.json.reason",
        "notes.txt",
        "notes.txt.reason",
    ]
    assert spool.quarantined() == 2
    assert "quarantined" in caplog.text
    reason = (spool.quarantine_dir / "00000000000000000001-full-ok.json.reason").read_text()
    assert "not a decodable envelope" in reason


def test_leftover_temp_files_are_removed_at_start(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    spool.add(1, "full", False, envelope(1))
    leftover = spool.directory / ".00000000000000000002-full-ok.json.k3j4.partial"
    leftover.write_bytes(b'{"v":1,"ho')
    in_flight = spool.directory / ".00000000000000000003-full-ok.json.m5n6.partial"
    in_flight.write_bytes(b'{"v":1,"host_id":')
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    assert [e.seq for e in spool.entries()] == [1]  # never taken for a report
    make_spool(tmp_path)  # the next start
    assert not leftover.exists()
    assert in_flight.exists()  # young: another process of this agent may be writing it
    assert spool.quarantined() == 0


def test_bound_drops_heartbeats_then_passing_full_never_failing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    size = len(envelope(1, padding=1000))
    spool = make_spool(tmp_path, max_bytes=size * 4)
    plan = [
        (1, "full", True),
        (2, "full", False),
        (3, "heartbeat", False),
        (4, "full", True),
        (5, "heartbeat", True),
        (6, "full", False),
    ]
    caplog.set_level(logging.WARNING, logger="agent.spool")
    for seq, kind, failing in plan:
        spool.add(seq, kind, failing, envelope(seq, padding=1000))
    # 6 reports, room for 4: the two heartbeats go first (oldest first)
    assert [e.seq for e in spool.entries()] == [1, 2, 4, 6]
    spool.add(7, "full", True, envelope(7, padding=1000))
    # then the oldest full report without a violation
    assert [e.seq for e in spool.entries()] == [1, 4, 6, 7]
    for seq in (8, 9):
        spool.add(seq, "full", True, envelope(seq, padding=1000))
    # only violations left: nothing more is dropped, the bound stays exceeded
    assert [e.seq for e in spool.entries()] == [1, 4, 7, 8, 9]
    assert all(e.failing for e in spool.entries())
    assert "over its bound" in caplog.text


def test_reject_moves_the_report_aside_with_its_reason(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    entry = spool.add(9, "full", True, envelope(9))
    spool.reject(entry, "bad_signature", "the signature does not verify", 401)
    assert spool.count() == 0 and spool.rejected() == 1
    reason = (spool.rejected_dir / f"{entry.name}.reason").read_text()
    assert reason.strip() == "401 bad_signature: the signature does not verify"

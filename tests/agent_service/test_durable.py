"""Durable writes: old or new content, never half; exact modes; leftovers swept; seq never
reused, even when the writer is killed with SIGKILL in the middle."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent import durable
from agent.state import StateDir
from tests.conftest import agent_env

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes and signals")


def test_write_atomic_replaces_content_with_exact_mode(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    old_umask = os.umask(0)
    try:
        durable.write_atomic(target, b"secret", mode=0o600)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"secret"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    durable.write_atomic(target, b"public", mode=0o644)
    assert target.read_bytes() == b"public"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]


def test_a_failed_write_leaves_the_old_content_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "seq"
    durable.write_atomic(target, b"41\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        durable.write_atomic(target, b"42\n")
    assert target.read_bytes() == b"41\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq"]


def test_remove_leftovers_deletes_only_temp_files(tmp_path: Path) -> None:
    (tmp_path / ".seq.abc123.partial").write_bytes(b"half")
    (tmp_path / "seq").write_bytes(b"1\n")
    (tmp_path / ".hidden").write_bytes(b"not ours")
    removed = durable.remove_leftovers(tmp_path)
    assert [p.name for p in removed] == [".seq.abc123.partial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "seq"]


WRITER = """
import sys
from pathlib import Path
from agent.durable import write_atomic
target = Path(sys.argv[1])
blocks = [bytes([65]) * (8 << 20), bytes([66]) * (8 << 20)]
write_atomic(target, blocks[0])
print("ready", flush=True)
i = 1
while True:
    write_atomic(target, blocks[i % 2])
    i += 1
"""


def _kill_soon(process: subprocess.Popen[str], rng: random.Random) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.2))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_kill_9_mid_write_leaves_old_or_new_content(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    rng = random.Random(7)
    interrupted = 0
    for _ in range(8):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)],
            stdout=subprocess.PIPE,
            text=True,
            env=agent_env(),
        ) as process:
            _kill_soon(process, rng)
        data = target.read_bytes()
        assert len(data) == 8 << 20
        assert data in (b"A" * (8 << 20), b"B" * (8 << 20))
        interrupted += len(durable.remove_leftovers(tmp_path))
        assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    # At least one kill landed inside a write (it left a temp file, now swept).
    assert interrupted >= 1


SEQ_WRITER = """
import sys
from pathlib import Path
from agent.state import StateDir
state = StateDir(Path(sys.argv[1]))
state.prepare()
print("ready", flush=True)
while True:
    print(state.next_seq(), flush=True)
"""


def test_seq_is_never_reused_after_kill_9(tmp_path: Path) -> None:
    rng = random.Random(11)
    highest_used = 0
    for _ in range(5):
        with subprocess.Popen(
            [sys.executable, "-c", SEQ_WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
            env=agent_env(),
        ) as process:
            _kill_soon(process, rng)
            assert process.stdout is not None
            printed = [int(line) for line in process.stdout.read().split() if line.isdigit()]
        if printed:
            assert printed[0] > highest_used
            highest_used = printed[-1]
        state = StateDir(tmp_path)
        state.prepare()  # sweeps what the killed writer left
        following = state.next_seq()
        assert following > highest_used  # a seq handed out is never handed out again
        highest_used = following
    assert highest_used > 5

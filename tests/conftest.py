"""Shared test helpers: run the real agent as a process, and personas of machines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CUSTOS_AGENT_CONFIG", None)
    env.pop("CUSTOS_AGENT_STATE", None)
    env.update(extra or {})
    return env


def agent_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", *args]


def run_agent(
    *args: str,
    prefix: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """The real `custos-agent` as a separate process (optionally inside `ip netns exec NS`)."""
    return subprocess.run(
        [*prefix, *agent_argv(*args)],
        capture_output=True,
        text=True,
        env=agent_env(env),
        timeout=timeout,
        check=False,
    )


def run_agent_json(*args: str, **kwargs: Any) -> tuple[int, Any]:
    completed = run_agent(*args, **kwargs)
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"not JSON (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    return completed.returncode, document


@pytest.fixture
def agent_config(tmp_path: Path) -> Path:
    """An agent config of a registered office PC, with its own state directory."""
    config = tmp_path / "agent.yaml"
    config.write_text(
        "state_dir: state\n"
        "asset:\n"
        "  machine_number: BJ-2026-0417\n"
        "  responsible_person: 张三\n"
        "  department: 办公室\n"
        "  classification: 内部\n"
        "  purpose: intranet\n",
        encoding="utf-8",
    )
    return config

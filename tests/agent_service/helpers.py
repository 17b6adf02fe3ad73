"""Helpers shared by the agent-service tests (kept out of conftest.py so that every test
module imports one copy of them)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from agent.cli import main
from agent.config import AgentConfig, load_config

# Probe-free and collector-light (host facts only): a check takes milliseconds and sends
# nothing anywhere. The second rule fails when the config leaves responsible_person empty.
SERVICE_POLICY = """
id: service-test
version: "1"
title: {zh: 服务测试, en: Service test}
schedule: {interval: 1h, jitter: 0s}
asset:
  - id: asset-number
    severity: medium
    title: {zh: 资产编号, en: Asset number}
    required_fields: [machine_number]
  - id: asset-person
    severity: medium
    title: {zh: 责任人, en: Responsible person}
    remedy: {zh: 请登记责任人, en: Register the responsible person}
    required_fields: [responsible_person]
"""


@dataclass
class AgentSetup:
    config_path: Path
    state_dir: Path
    watch_root: Path
    policy_path: Path

    def config(self) -> AgentConfig:
        return load_config(self.config_path, self.state_dir)

    def args(self, *rest: str) -> list[str]:
        return ["--config", str(self.config_path), "--state-dir", str(self.state_dir), *rest]

    def write_config(
        self, person: str = "张三", extra: str = "", local_policy: bool = True
    ) -> None:
        """`local_policy=False` leaves the policy to the server (state dir policy.yaml)."""
        self.config_path.write_text(
            (f"policy: {self.policy_path}\n" if local_policy else "")
            + f"watch_roots: [{self.watch_root}]\n"
            "check_interval_override: 3600\n"
            "asset:\n"
            "  machine_number: BJ-2026-0417\n"
            f"  responsible_person: '{person}'\n" + extra,
            encoding="utf-8",
        )


def call_cli(*argv: str) -> tuple[int, str, str]:
    """`custos-agent` in this process (fast); the process-level tests run the real thing."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()

"""What the MSI's custom actions run, as SYSTEM, with the bundled interpreter.

    python -P -m agent.platforms.windows.install configure [--server URL] [--token T |
        --token-file FILE] [--ca-bundle FILE] [--pin-sha256 HEX] [--machine-number …]
        [--responsible-person …] [--department …] [--classification …] [--purpose …]
    python -P -m agent.platforms.windows.install uninstall [--remove-state]

configure (after InstallServices, before StartServices; on install, repair and upgrade):
1. `%ProgramData%\\Custos` is created and given the protected DACL of `acl.STATE_DIR_SDDL`
   (SYSTEM and Administrators only; the state directory and key below inherit it);
2. the asset fields given (the MSI's public properties) are written into `agent.yaml`; fields
   not given keep their value, so an upgrade without them changes nothing;
3. unless already enrolled, the agent enrolls with SERVER and TOKEN (or the first line of
   TOKENFILE); a major upgrade therefore keeps the key and the host identity. A refused or
   failed enrollment fails the installation: a deployment tool shows it, and nothing is left
   half-made (enrollment writes nothing unless the server said yes);
4. the service gets delayed automatic start and its recovery actions: restart after 60 s on
   the first two failures, after 5 min after that (a stop with exit code 2 is no failure).

uninstall (before the files are removed; not on an upgrade): a last report with trigger
"uninstall", so the server learns the agent was removed (best effort: offline, it is not
sent); with --remove-state (REMOVESTATE=1) the state and config are deleted as well, else
they stay, and installing again later continues as the same host.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from agent.config import default_config_path, default_state_dir
from agent.state import StateDir

log = logging.getLogger(__name__)

ASSET_FIELDS = ("machine_number", "responsible_person", "department", "classification", "purpose")
SERVICE_NAME = "CustosAgent"
DISPLAY_NAME = "Custos 终端合规自查 (Custos Agent)"
DESCRIPTION = (
    "检查本机是否符合单位的终端安全策略并向单位服务器报告。"
    " Checks this PC against the unit's policy and reports to the unit's server."
)
RESTART_DELAYS_MS = (60_000, 60_000, 300_000)
FAILURE_RESET_SECONDS = 86_400
UNINSTALL_REPORT_TIMEOUT = 60.0


def merge_asset_fields(config_file: Path, given: dict[str, str]) -> dict[str, Any]:
    """The config with the non-empty `given` asset fields set; other keys untouched."""
    data: dict[str, Any] = {}
    if config_file.is_file():
        loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            data = loaded
    asset = dict(data.get("asset") or {})
    asset.update({field: value.strip() for field, value in given.items() if value.strip()})
    if asset:
        data["asset"] = asset
    return data


def write_config(config_file: Path, data: dict[str, Any]) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    partial = config_file.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(config_file)


def token_from(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token).strip()
    if args.token_file:
        lines = Path(args.token_file).read_text(encoding="utf-8-sig").splitlines()
        return lines[0].strip() if lines else ""
    return ""


def enroll_argv(args: argparse.Namespace, token: str) -> list[str]:
    argv = ["enroll", "--server", args.server, "--token", token]
    if args.ca_bundle:
        argv += ["--ca-bundle", args.ca_bundle]
    if args.pin_sha256:
        argv += ["--pin-sha256", args.pin_sha256]
    return argv


def configure(args: argparse.Namespace) -> int:
    config_file = default_config_path()
    root = config_file.parent
    root.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        from agent.platforms.windows import acl

        acl.protect(root)
    given = {field: getattr(args, field) or "" for field in ASSET_FIELDS}
    write_config(config_file, merge_asset_fields(config_file, given))
    if not StateDir(default_state_dir()).is_enrolled():
        token = token_from(args)
        if args.server and token:
            from agent.cli import main as agent_main

            status = agent_main(enroll_argv(args, token))
            if status != 0:
                return status
        else:
            log.warning("not enrolled and no SERVER/TOKEN given: the service will wait")
    if sys.platform == "win32":
        _configure_service()
    return 0


def _configure_service() -> None:
    import win32service

    manager = win32service.OpenSCManager(None, None, win32service.SC_MANAGER_ALL_ACCESS)
    try:
        service = win32service.OpenService(manager, SERVICE_NAME, win32service.SERVICE_ALL_ACCESS)
        try:
            # The MSI's tables are ASCII (wixl): the Chinese name and description are set here.
            win32service.ChangeServiceConfig(
                service,
                win32service.SERVICE_NO_CHANGE,
                win32service.SERVICE_NO_CHANGE,
                win32service.SERVICE_NO_CHANGE,
                None,
                None,
                False,
                None,
                None,
                None,
                DISPLAY_NAME,
            )
            win32service.ChangeServiceConfig2(
                service, win32service.SERVICE_CONFIG_DESCRIPTION, DESCRIPTION
            )
            win32service.ChangeServiceConfig2(
                service, win32service.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, True
            )
            actions = [(win32service.SC_ACTION_RESTART, delay) for delay in RESTART_DELAYS_MS]
            win32service.ChangeServiceConfig2(
                service,
                win32service.SERVICE_CONFIG_FAILURE_ACTIONS,
                {
                    "ResetPeriod": FAILURE_RESET_SECONDS,
                    "RebootMsg": None,
                    "Command": None,
                    "Actions": actions,
                },
            )
        finally:
            win32service.CloseServiceHandle(service)
    finally:
        win32service.CloseServiceHandle(manager)


def uninstall(args: argparse.Namespace) -> int:
    state = StateDir(default_state_dir())
    if state.is_enrolled():
        command = [sys.executable, "-P", "-m", "agent", "send", "--trigger", "uninstall"]
        try:
            subprocess.run(command, timeout=UNINSTALL_REPORT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("the uninstall report was not sent: %s", exc)
    if args.remove_state:
        shutil.rmtree(default_config_path().parent, ignore_errors=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m agent.platforms.windows.install")
    steps = parser.add_subparsers(dest="step", required=True)
    setup = steps.add_parser("configure")
    setup.add_argument("--server", default="")
    setup.add_argument("--token", default="")
    setup.add_argument("--token-file", default="")
    setup.add_argument("--ca-bundle", default="")
    setup.add_argument("--pin-sha256", default="")
    for field in ASSET_FIELDS:
        setup.add_argument("--" + field.replace("_", "-"), dest=field, default="")
    remove = steps.add_parser("uninstall")
    remove.add_argument("--remove-state", default="", help="1 to delete state and config")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.step == "configure":
        return configure(args)
    args.remove_state = args.remove_state.strip() == "1"
    return uninstall(args)


if __name__ == "__main__":
    sys.exit(main())

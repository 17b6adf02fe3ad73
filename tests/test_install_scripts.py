"""README's two commands and the scripts behind them, as CI and a new user run them.

CI (`.ci/fresh-debian`) runs whatever `.ci/readme-command` extracts from README.md, verbatim,
on fresh Debian roots; these tests keep that extraction honest and the venv bootstrap cheap
to rerun. The fresh-machine runs themselves are CI's, not the suite's (they take minutes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "README.md"
README_COMMAND = ROOT / ".ci" / "readme-command"


def readme_command(which: str, readme: Path = README) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(README_COMMAND), which, str(readme)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_readmes_main_command_is_the_demo_script_and_its_test_command_the_test_script() -> None:
    assert readme_command("main").stdout == "scripts/demo\n"
    assert readme_command("test").stdout == "scripts/test\n"


def test_each_readme_command_is_an_executable_script_of_the_checkout() -> None:
    for which in ("main", "test"):
        script = ROOT / readme_command(which).stdout.strip()
        assert script.is_file(), script
        assert os.access(script, os.X_OK), f"{script} is not executable"


def test_readme_shows_each_command_in_a_shell_block_right_after_its_ci_marker() -> None:
    text = README.read_text(encoding="utf-8")
    for which, command in (("main", "scripts/demo"), ("test", "scripts/test")):
        marker = text.index(f"<!-- ci: {which} command")
        after = text[marker:].split("\n", 1)[1]
        assert after.startswith(f"```sh\n{command}\n```\n"), after[:80]


def test_it_refuses_a_readme_without_the_marker(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Custos\n\n```sh\nscripts/demo\n```\n", encoding="utf-8")
    completed = readme_command("main", readme)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert '"<!-- ci: main command" marker followed by a fenced block' in completed.stderr


def test_it_refuses_a_marker_whose_block_does_not_follow_it(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- ci: test command -->\nRun this:\n\n```sh\nscripts/test\n```\n", encoding="utf-8"
    )
    completed = readme_command("test", readme)
    assert completed.returncode == 2
    assert completed.stdout == ""


def test_it_refuses_an_unknown_command_name() -> None:
    completed = readme_command("lint")
    assert completed.returncode == 2
    assert "usage: .ci/readme-command main|test" in completed.stderr


def test_git_ignores_the_virtual_environment_the_scripts_make() -> None:
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/.venv/" in lines


def checkout_with_a_venv(tmp_path: Path, stamp: str | None) -> Path:
    """A copy of the files scripts/venv reads, with a pip-less venv: any pip call would fail."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "venv", checkout / "scripts" / "venv")
    shutil.copy2(ROOT / "pyproject.toml", checkout / "pyproject.toml")
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(checkout / ".venv")],
        check=True,
        timeout=120,
    )
    if stamp is not None:
        (checkout / ".venv" / ".custos-installed").write_text(stamp, encoding="utf-8")
    return checkout


def run_venv_script(checkout: Path, extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(checkout / "scripts" / "venv"), extras],
        capture_output=True,
        text=True,
        env={**os.environ, "CUSTOS_PYTHON": sys.executable},
        timeout=120,
        check=False,
    )


def pyproject_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def test_a_second_run_installs_nothing_when_the_venv_already_holds_those_extras(
    tmp_path: Path,
) -> None:
    checkout = checkout_with_a_venv(tmp_path, f"{pyproject_hash()} dev server\n")
    completed = run_venv_script(checkout, "server")
    assert completed.returncode == 0, completed.stderr
    assert "installing" not in completed.stderr


def test_a_changed_pyproject_installs_again(tmp_path: Path) -> None:
    checkout = checkout_with_a_venv(tmp_path, f"{'0' * 64} dev server\n")
    completed = run_venv_script(checkout, "server")
    assert "scripts/venv: installing Custos with [server] into .venv" in completed.stderr
    assert completed.returncode != 0  # the venv has no pip: the install was really attempted
    assert not (checkout / ".venv" / ".custos-installed").exists()


def test_an_extra_the_venv_lacks_is_installed_alongside_the_ones_it_has(tmp_path: Path) -> None:
    checkout = checkout_with_a_venv(tmp_path, f"{pyproject_hash()} server\n")
    completed = run_venv_script(checkout, "dev")
    assert "scripts/venv: installing Custos with [dev,server] into .venv" in completed.stderr


def checkout_recording_pytest_runs(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of scripts/test whose install step does nothing and whose venv `python` only
    records the arguments of each pytest run (one line each)."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "test", checkout / "scripts" / "test")
    install = checkout / "scripts" / "install"
    install.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    install.chmod(0o755)
    runs = tmp_path / "runs"
    python = checkout / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$*" >> {runs}\n', encoding="utf-8")
    python.chmod(0o755)
    return checkout, runs


def run_test_script(checkout: Path, *args: str, **env: str) -> list[str]:
    subprocess.run(
        [str(checkout / "scripts" / "test"), *args],
        env={
            **{k: v for k, v in os.environ.items() if k != "CUSTOS_TEST_POSTGRES"},
            "CUSTOS_TEST_POSTGRES_URL": "postgresql://custos@127.0.0.1/none",
            **env,
        },
        capture_output=True,
        check=True,
        timeout=60,
    )
    return (checkout.parent / "runs").read_text(encoding="utf-8").splitlines()


def test_the_test_command_passes_its_arguments_to_both_runs(tmp_path: Path) -> None:
    checkout, _ = checkout_recording_pytest_runs(tmp_path)
    assert run_test_script(checkout, "-k", "enroll", "tests/server") == [
        "-m pytest -k enroll tests/server",
        "-m pytest -m server -k enroll tests/server",
    ]


def test_ci_can_leave_out_the_postgresql_run(tmp_path: Path) -> None:
    """CI's second Python runs the whole suite on SQLite only (docs/ci.md)."""
    checkout, _ = checkout_recording_pytest_runs(tmp_path)
    assert run_test_script(checkout, "-x", CUSTOS_TEST_POSTGRES="no") == ["-m pytest -x"]


def test_a_marker_expression_narrows_the_postgresql_run_instead_of_replacing_it(
    tmp_path: Path,
) -> None:
    checkout, _ = checkout_recording_pytest_runs(tmp_path)
    assert run_test_script(checkout, "-m", "not browser", "-x") == [
        "-m pytest -m not browser -x",
        "-m pytest -m server and (not browser) -x",
    ]

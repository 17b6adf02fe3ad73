"""`custos-server demo --no-serve`: the first look works from an empty directory, offline."""

from __future__ import annotations

import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from tests.e2e.helpers import ServerDatabase, free_port, read_log, wait_for
from tests.server.processes import ROOT, server_argv, server_env

pytestmark = [pytest.mark.server, pytest.mark.slow]

LOGIN_CHECK_SCRIPT = """
import sys
import django
django.setup()
from django.contrib.auth.models import User
admin = User.objects.get(username=sys.argv[1])
sys.exit(0 if admin.check_password(sys.stdin.readline().strip()) else 1)
"""


def _checks(document: Any) -> list[str]:
    """Every `check:` value anywhere in a policy document."""
    if isinstance(document, dict):
        found = [str(document["check"])] if "check" in document else []
        return found + [c for value in document.values() for c in _checks(value)]
    if isinstance(document, list):
        return [c for item in document for c in _checks(item)]
    return []


FRESH_LOGIN = re.compile(r"^login: (\S+)\s+password: (\S+)$", re.MULTILINE)
NEW_PASSWORD_COMMAND = re.compile(r"^a new password: (.+)$", re.MULTILINE)


def run_demo(data: Path, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        server_argv("demo", "--data-dir", str(data), "--port", str(port), *extra),
        capture_output=True,
        text=True,
        env=server_env(data),  # no CUSTOS_DATABASE_URL: the demo is SQLite, always
        cwd=ROOT,
        timeout=240,
        check=False,
    )


def password_works(data: Path, name: str, password: str) -> bool:
    env = server_env(data, DJANGO_SETTINGS_MODULE="server.settings")
    checked = subprocess.run(
        [sys.executable, "-c", LOGIN_CHECK_SCRIPT, name],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return checked.returncode == 0


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_demo_enrolls_this_machine_delivers_one_report_and_prints_a_working_login(
    tmp_path: Path,
) -> None:
    data = tmp_path / "demo"
    port = free_port()
    completed = run_demo(data, port, "--no-serve", "--lang", "en")
    output = completed.stdout
    assert completed.returncode == 0, f"{output}\n{completed.stderr}"

    assert f"Custos server: http://127.0.0.1:{port}/" in output
    login = FRESH_LOGIN.search(output)
    assert login is not None, output
    assert "Endpoint compliance self-inspection" in output  # the check sheet, in English
    assert re.search(r"^Result", output, re.MULTILINE), output
    assert "the first signed report from this machine has been delivered" in output

    database = ServerDatabase(data, None)
    assert database.count("fleet_host") == 1
    assert database.count("fleet_report") == 1
    ((host_id,),) = database.rows("SELECT host_id FROM fleet_host")
    assert database.reports(str(host_id))[0].seq == 1

    # The printed password is the admin's.
    assert password_works(data, login.group(1), login.group(2))
    # Only this user may read the SQLite file and the keys.
    assert mode_of(data) == 0o700

    # Nothing beyond loopback was asked of the machine: the demo policy has no probes.
    policy = yaml.safe_load((data / "demo-office.yaml").read_text(encoding="utf-8"))
    checks = _checks(policy)
    assert checks and "probes" not in checks


def test_a_busy_port_is_refused_with_exit_2_before_anything_is_made(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        port = other_server.getsockname()[1]

        completed = run_demo(data, port, "--no-serve")

    assert completed.returncode == 2, completed.stdout
    assert completed.stderr == (
        f"custos-server demo: port {port} is in use; choose another with --port\n"
    )
    assert completed.stdout == ""
    assert not data.exists()


def test_a_server_that_cannot_start_is_explained_and_the_next_run_shows_a_new_login(
    tmp_path: Path,
) -> None:
    data = tmp_path / "demo"
    data.mkdir()
    data.chmod(0o755)  # as an earlier version of the demo made it
    key = data / "server_key.pem"
    key.write_text("not a key\n", encoding="ascii")  # the parent never reads it; the child does
    port = free_port()

    failed = run_demo(data, port, "--no-serve")

    assert failed.returncode == 1, failed.stdout
    assert "custos-server run exited with status 2" in failed.stderr
    assert f"the server's last lines ({data / 'server.log'})" in failed.stderr
    assert f"  custos-server: {key}: not a usable private key" in failed.stderr
    assert "now 0700" in failed.stderr and mode_of(data) == 0o700
    assert FRESH_LOGIN.search(failed.stdout) is None  # the admin exists, its password unseen

    key.unlink()
    completed = run_demo(data, port, "--no-serve")

    assert completed.returncode == 0, completed.stderr
    login = FRESH_LOGIN.search(completed.stdout)
    assert login is not None, completed.stdout
    assert password_works(data, "demo-admin", login.group(2))

    again = run_demo(data, port, "--no-serve")

    assert again.returncode == 0, again.stderr
    assert FRESH_LOGIN.search(again.stdout) is None, "a shown password is not replaced"
    assert password_works(data, "demo-admin", login.group(2))
    command = NEW_PASSWORD_COMMAND.search(again.stdout)
    assert command is not None, again.stdout
    assert command.group(1) == (
        f"CUSTOS_DATA_DIR={shlex.quote(str(data))} "
        "custos-server user password demo-admin --generate"
    )
    changed = subprocess.run(
        ["sh", "-c", command.group(1)],
        capture_output=True,
        text=True,
        env=server_env(tmp_path / "elsewhere"),  # the command names its own data directory
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert changed.returncode == 0, changed.stderr
    assert password_works(data, "demo-admin", changed.stdout.strip())
    assert not password_works(data, "demo-admin", login.group(2))


@pytest.fixture(scope="module")
def serving_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One demo data directory for the signal tests: the first run sets it up, later ones
    reuse it, as a person running the demo again does."""
    yield tmp_path_factory.mktemp("serving") / "demo"


def port_is_closed(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_serving_demo(data: Path, port: int, output: Path) -> subprocess.Popen[bytes]:
    """`custos-server demo` in the background, once it says it is serving."""
    with output.open("wb") as sink:
        demo = subprocess.Popen(
            server_argv("demo", "--data-dir", str(data), "--port", str(port)),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=server_env(data),
            cwd=ROOT,
        )
    wait_for(
        "the demo to serve",
        lambda: "serving; Ctrl-C stops" in read_log(output) or demo.poll() is not None,
        timeout=180,
        every=0.2,
    )
    assert demo.poll() is None, read_log(output)
    return demo


@pytest.mark.parametrize(
    "stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda stop: stop.name
)
def test_a_stop_signal_to_the_demo_stops_its_server_too(
    serving_data: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    output = tmp_path / "demo.out"
    demo = start_serving_demo(serving_data, port, output)
    try:
        children = psutil.Process(demo.pid).children(recursive=True)
        assert children and not port_is_closed(port)

        demo.send_signal(stop)

        assert demo.wait(timeout=60) == 0, read_log(output)
        assert port_is_closed(port)
        assert not [child for child in children if child.is_running()]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_a_server_that_stops_while_serving_ends_the_demo_with_its_last_lines(
    serving_data: Path, tmp_path: Path
) -> None:
    port = free_port()
    output = tmp_path / "demo.out"
    demo = start_serving_demo(serving_data, port, output)
    try:
        (server,) = psutil.Process(demo.pid).children()

        server.terminate()  # as an administrator or the OOM killer might, behind its back

        assert demo.wait(timeout=60) == 1, read_log(output)
        said = read_log(output)
        assert "custos-server demo: the server stopped (status 0)" in said
        assert f"the server's last lines ({serving_data / 'server.log'}):" in said
        assert "Shutting down: Master" in said  # gunicorn's own last words, shown
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()

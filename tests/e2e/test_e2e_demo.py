"""`custos-server demo --no-serve`: the first look works from an empty directory, offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.helpers import ServerDatabase, free_port
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


def test_the_demo_enrolls_this_machine_delivers_one_report_and_prints_a_working_login(
    tmp_path: Path,
) -> None:
    data = tmp_path / "demo"
    port = free_port()
    completed = subprocess.run(
        server_argv(
            "demo", "--data-dir", str(data), "--port", str(port), "--no-serve", "--lang", "en"
        ),
        capture_output=True,
        text=True,
        env=server_env(data),  # no CUSTOS_DATABASE_URL: the demo is SQLite, always
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    output = completed.stdout
    assert completed.returncode == 0, f"{output}\n{completed.stderr}"

    assert f"Custos server: http://127.0.0.1:{port}/" in output
    login = re.search(r"^login: (\S+)\s+password: (\S+)$", output, re.MULTILINE)
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
    env = server_env(data, DJANGO_SETTINGS_MODULE="server.settings")
    checked = subprocess.run(
        [sys.executable, "-c", LOGIN_CHECK_SCRIPT, login.group(1)],
        input=login.group(2) + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr

    # Nothing beyond loopback was asked of the machine: the demo policy has no probes.
    policy = yaml.safe_load((data / "demo-office.yaml").read_text(encoding="utf-8"))
    checks = _checks(policy)
    assert checks and "probes" not in checks

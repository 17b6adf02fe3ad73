"""The Windows MSI, built here by msitools' wixl and read back with msiinfo.

`packaging/windows/build-msi --offline` builds from a stand-in runtime directory and the
agent's sources (no network); `check-msi` reads every table that decides what Windows
Installer does. CI builds the full MSI (wheels from PyPI) with the same script; installing it
is for the Windows runner (.github/workflows/windows.yml).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "packaging" / "windows" / "build-msi"
CHECK = ROOT / "packaging" / "windows" / "check-msi"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("wixl", "wixl-heat", "msiinfo", "msibuild")),
    reason="needs Debian's wixl and msitools (packaging/windows/build-msi installs them)",
)


def build(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD), *options], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def msi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("msi") / "custos-agent.msi"
    built = build("--offline", "--out", str(out))
    assert built.returncode == 0, built.stderr
    return out


def export(msi: Path, table: str) -> list[list[str]]:
    text = subprocess.run(
        ["msiinfo", "export", str(msi), table], capture_output=True, text=True, check=True
    ).stdout
    return [line.split("\t") for line in text.splitlines()[3:] if line]


def test_the_msi_builds_on_linux_and_its_tables_pass_the_check(msi: Path) -> None:
    assert subprocess.run([sys.executable, str(CHECK), str(msi)]).returncode == 0


def test_every_agent_module_is_installed_under_program_files(msi: Path) -> None:
    installed = {row[2].split("|")[-1] for row in export(msi, "File")}
    sources = {path.name for path in (ROOT / "agent").rglob("*.py")}
    assert sources <= installed
    directories = {row[0]: row for row in export(msi, "Directory")}
    assert directories["INSTALLDIR"][1:] == ["ProgramFiles64Folder", "Custos"]


def test_the_check_finds_a_service_that_would_not_run_as_localsystem(
    msi: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.msi"
    shutil.copy(msi, broken)
    subprocess.run(
        ["msibuild", str(broken), "-q",
         "UPDATE ServiceInstall SET StartName = 'NT AUTHORITY\\LocalService'"],
        check=True,
    )  # fmt: skip
    checked = subprocess.run(
        [sys.executable, str(CHECK), str(broken)], capture_output=True, text=True
    )
    assert checked.returncode == 1
    assert "service does not run as LocalSystem" in checked.stderr


def test_a_release_build_refuses_the_stand_in_runtime() -> None:
    refused = build("--release")
    assert refused.returncode != 0
    assert "a release build needs --runtime-zip" in refused.stderr


def test_a_runtime_whose_hash_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "python-3.12.10-embed-amd64.zip"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("python.exe", b"not python")
    refused = build("--offline", "--runtime-zip", str(fake), "--out", str(tmp_path / "x.msi"))
    assert refused.returncode != 0
    digest = hashlib.sha256(fake.read_bytes()).hexdigest()
    assert f"SHA-256 {digest} is not the pinned" in refused.stderr
    assert not (tmp_path / "x.msi").exists()

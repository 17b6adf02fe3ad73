"""The snapshot download: what an auditor gets, what the audit log keeps, who gets nothing.

The permission matrix covers every persona's status; here the file itself is checked.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.actions_world import enroll, send, signed_in
from tests.server.agents import finding

pytestmark = pytest.mark.server


@pytest.fixture
def pcs(world: Any) -> tuple[Any, Any]:
    mine = enroll(world.office, "hd-pc-01")
    send(mine, [finding("vrv-installed"), finding("no-games", "fail")])
    theirs = enroll(world.other_office, "cy-pc-01")
    send(theirs, [finding("vrv-installed")])
    return mine, theirs


def test_an_auditor_downloads_a_verifiable_snapshot_of_their_subtree(
    world: Any, pcs: tuple[Any, Any], tmp_path: Path
) -> None:
    from server.accounts.models import AuditEntry
    from server.snapshots.verify import verify_snapshot

    mine, _ = pcs
    browser = signed_in(world.auditor)

    page = browser.get("/snapshots/")
    response = browser.post("/snapshots/", {"unit": str(world.county.pk)})

    assert page.status_code == 200
    assert world.county.path in page.content.decode() and world.other_county.path not in (
        page.content.decode()
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    data = response.content
    path = tmp_path / "download.zip"
    path.write_bytes(data)
    outcome = verify_snapshot(path)
    assert outcome.valid, outcome.problems
    assert (outcome.unit, outcome.hosts) == (world.county.path, 1)
    hosts = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("snapshot.json"))["hosts"]
    assert [host["host_id"] for host in hosts] == [mine.host_id]
    entry = AuditEntry.objects.get(action="snapshot.create")
    assert (entry.actor, entry.target, entry.details["file"]) == (
        "user:li",
        world.county.path,
        "download",
    )
    assert entry.details["sha256"] == response["X-Custos-Snapshot-SHA256"]


def test_a_unit_out_of_scope_or_no_unit_is_not_found_and_not_logged(
    world: Any, pcs: tuple[Any, Any]
) -> None:
    from server.accounts.models import AuditEntry

    browser = signed_in(world.other_admin)

    assert browser.post("/snapshots/", {"unit": str(world.county.pk)}).status_code == 404
    assert browser.post("/snapshots/", {"unit": "x"}).status_code == 404
    assert browser.post("/snapshots/", {}).status_code == 404
    assert not AuditEntry.objects.filter(action="snapshot.create").exists()

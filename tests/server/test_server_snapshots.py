"""Snapshots: `custos-server snapshot create` exports a subtree, `custos-server verify` checks
it offline and names every way it was tampered with, including a server that lies about what
its agents signed.

Hosts are enrolled through the API with real agent keys and report real signed envelopes;
tampering rewrites real snapshot files member by member.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from agent.protocol.canonical import canonical_json
from agent.protocol.documents import SNAPSHOT_DOMAIN, sign
from agent.protocol.payload import state_hash
from tests.server.agents import SimulatedAgent, finding
from tests.server.processes import ROOT, run_server

pytestmark = pytest.mark.server

COUNTY = "北京市/海淀区/网信办"
OTHER = "北京市/朝阳区/教育局"
HOSTILE_HOSTNAME = "=cmd|' /C calc'!A0"
HOSTILE_SOFTWARE = "<script>alert(1)</script>"
USB_EVENT = {
    "time": "2026-11-20T09:15:00Z",
    "last_seen": "2026-11-20T09:40:00Z",
    "vendor_id": "0951",
    "product_id": "1666",
    "serial": "60A44C413E4FB1A0",
    "manufacturer": "Kingston",
    "product": "DataTraveler 3.0",
    "usb_class": "mass_storage",
    "source": "journal",
    "bus_path": "2-1.4",
}


# --- a fleet that reports ------------------------------------------------------------------


def post(client: Client, body: bytes) -> None:
    response = client.post("/api/v1/reports", data=body, content_type="application/json")
    assert response.status_code == 200, response.content


def office_findings() -> list[dict[str, Any]]:
    return [
        finding("vrv-installed", "pass", installed=True, running=True),
        {**finding("no-games", "fail", found=["steam"]), "severity": "medium"},
        {
            **finding("no-internet", "fail", reached=["probe.example.org"], interface="wlan0"),
            "category": "internet",
            "title": {"zh": "禁止外联", "en": "No internet access"},
        },
    ]


def full_report(
    agent: SimulatedAgent,
    findings: list[dict[str, Any]],
    *,
    hostname: str | None = None,
    software: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    host = agent.host_facts(**({"hostname": hostname} if hostname else {}))
    payload = agent.full_payload(findings=findings, host=host)
    inventory = payload["inventory"]
    if software is not None:
        inventory["software"] = software
    inventory["media"] = {"storage": [], "history": [USB_EVENT], "history_source": "journal"}
    payload["state_hash"] = state_hash(host, findings, inventory)
    return payload


def enroll(client: Client, unit_path: str, hostname: str) -> SimulatedAgent:
    from server.accounts.units import add_unit_path
    from server.fleet.tokens import create_token

    unit, _ = add_unit_path(unit_path, "cli:test")
    _, token = create_token(unit, uses=1, expires_days=7, actor="cli:test")
    agent = SimulatedAgent(hostname=hostname)
    response = client.post(
        "/api/v1/enroll", data=agent.enrollment_body(token), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    agent.enrolled(response.json())
    return agent


@dataclass
class Fleet:
    county_pc: SimulatedAgent  # full report, a confirming heartbeat, a rectification
    other_pc: SimulatedAgent  # in a sibling unit: not in the county's snapshot

    @property
    def county(self) -> Any:
        from server.accounts.units import find_unit

        return find_unit(COUNTY)


@pytest.fixture
def fleet(db: None, client: Client) -> Fleet:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from server.fleet.models import Host
    from server.rectification.actions import issue

    county_pc = enroll(client, COUNTY, "pc-0417")
    payload = full_report(county_pc, office_findings())
    post(client, county_pc.envelope(payload))
    post(client, county_pc.envelope(county_pc.heartbeat_payload(payload["state_hash"])))
    other_pc = enroll(client, OTHER, "pc-edu-01")
    post(client, other_pc.envelope(full_report(other_pc, office_findings())))

    admin = User.objects.create_superuser("li.auditor", password="x" * 16)
    now = timezone.now()
    issue(
        Host.objects.get(host_id=county_pc.host_id),
        "no-games",
        "张三",
        timezone.localdate(now) + dt.timedelta(days=14),
        "",
        admin,
        "user:li.auditor",
        now,
    )
    return Fleet(county_pc, other_pc)


def create(unit: Any, path: Path) -> Any:
    from server.snapshots.create import create_snapshot

    return create_snapshot(unit, path, "cli:test")


def verify(path: Path, fingerprint: str | None = None) -> Any:
    from server.snapshots.verify import verify_snapshot

    return verify_snapshot(path, fingerprint)


def problems(outcome: Any) -> list[tuple[str, str]]:
    return [(problem.member, problem.reason) for problem in outcome.problems]


def has_problem(outcome: Any, member: str, words: str) -> bool:
    return any(m == member and words in reason for m, reason in problems(outcome))


@pytest.fixture
def snapshot(fleet: Fleet, tmp_path: Path) -> Path:
    path = tmp_path / "county.zip"
    create(fleet.county, path)
    return path


def server_fingerprint() -> str:
    from server.lib.server_key import current_server_key
    from server.snapshots.bundle import fingerprint, raw_public_key

    return fingerprint(raw_public_key(current_server_key()))


# --- tampering -----------------------------------------------------------------------------


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path: Path, members: dict[str, bytes] | list[tuple[str, bytes]]) -> None:
    items = list(members.items()) if isinstance(members, dict) else members
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, data)


def resign(
    members: dict[str, bytes], key: Ed25519PrivateKey, *, embed_key: bool = True
) -> dict[str, bytes]:
    """A new manifest over the members as they are now, signed with `key` (and naming it,
    unless `embed_key` is False: then the manifest still names the server's key)."""
    from server.snapshots.bundle import fingerprint, raw_public_key

    manifest = json.loads(members["manifest.json"])
    manifest["members"] = [
        {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in sorted(members.items())
        if name not in ("manifest.json", "manifest.sig")
    ]
    if embed_key:
        public = raw_public_key(key)
        manifest["server_key"]["public_key"] = base64.b64encode(public).decode()
        manifest["server_key"]["fingerprint_sha256"] = fingerprint(public)
    data = canonical_json(manifest)
    return {
        **members,
        "manifest.json": data,
        "manifest.sig": sign(key, SNAPSHOT_DOMAIN, data).encode() + b"\n",
    }


def with_result_status(members: dict[str, bytes], rule: str, status: str) -> dict[str, bytes]:
    snapshot = json.loads(members["snapshot.json"])
    for host in snapshot["hosts"]:
        for result in host["results"]:
            if result["rule"] == rule:
                result["status"] = status
    return {**members, "snapshot.json": canonical_json(snapshot)}


def tampered(snapshot: Path, change: Callable[[dict[str, bytes]], Any]) -> Path:
    members = members_of(snapshot)
    changed = change(members)
    out = snapshot.with_name("tampered.zip")
    write_members(out, changed)
    return out


# --- what a snapshot holds -----------------------------------------------------------------


def test_a_fresh_snapshot_verifies_and_names_its_unit_hosts_and_reports(
    fleet: Fleet, snapshot: Path
) -> None:
    outcome = verify(snapshot, server_fingerprint())

    assert problems(outcome) == []
    assert (outcome.unit, outcome.hosts, outcome.reports) == (COUNTY, 1, 2)
    assert outcome.fingerprint == server_fingerprint() and outcome.fingerprint_matched


def test_a_subtree_snapshot_holds_only_the_hosts_of_that_subtree(
    fleet: Fleet, tmp_path: Path
) -> None:
    from server.accounts.units import find_unit

    county = tmp_path / "county.zip"
    city = tmp_path / "city.zip"
    create(fleet.county, county)
    create(find_unit("北京市"), city)

    county_hosts = {h["host_id"] for h in json.loads(members_of(county)["snapshot.json"])["hosts"]}
    city_hosts = {h["host_id"] for h in json.loads(members_of(city)["snapshot.json"])["hosts"]}
    assert county_hosts == {fleet.county_pc.host_id}
    assert city_hosts == {fleet.county_pc.host_id, fleet.other_pc.host_id}
    assert not any(fleet.other_pc.host_id in name for name in members_of(county))
    assert verify(city).valid


def test_a_host_record_carries_the_check_sheet_and_the_reports_it_rests_on(
    fleet: Fleet, snapshot: Path
) -> None:
    members = members_of(snapshot)
    (host,) = json.loads(members["snapshot.json"])["hosts"]

    assert (host["unit"], host["department"], host["machine_number"]) == (
        COUNTY,
        "办公室",
        "BJ-2026-0417",
    )
    assert (host["responsible_person"], host["classification"], host["purpose"]) == (
        "张三",
        "内部",
        "intranet",
    )
    assert host["ip_addresses"] == ["10.11.0.17"] and host["mac_addresses"] == ["52:54:00:12:34:56"]
    assert host["policy"]["id"] == "intranet-office" and host["policy"]["version"] == "2026.11"
    assert {r["rule"]: r["status"] for r in host["results"]} == {
        "no-games": "fail",
        "no-internet": "fail",
        "vrv-installed": "pass",
    }
    assert host["required_software"] == [
        {
            "rule": "vrv-installed",
            "title": {"zh": "规则 vrv-installed", "en": "rule vrv-installed"},
            "installed": True,
            "running": True,
        }
    ]
    assert host["usb_history"][0]["serial"] == "60A44C413E4FB1A0"
    assert host["internet_evidence"][0]["evidence"]["interface"] == "wlan0"
    (notice,) = host["rectifications"]
    assert (notice["rule"], notice["status"], notice["responsible_person"]) == (
        "no-games",
        "open",
        "张三",
    )
    assert [(r["kind"], r["seq"], r["role"]) for r in host["rests_on"]] == [
        ("full", 1, "results"),
        ("heartbeat", 2, "confirms"),
    ]
    from server.fleet.models import Report

    for seq in (1, 2):
        stored = Report.objects.get(host__host_id=fleet.county_pc.host_id, seq=seq).envelope
        assert members[f"reports/{fleet.county_pc.host_id}/{seq}.envelope"] == bytes(stored)


def test_every_findings_row_names_the_policy_and_its_version(snapshot: Path) -> None:
    text = members_of(snapshot)["findings.csv"].decode("utf-8")

    assert text.startswith("\ufeff")  # Excel reads UTF-8 Chinese only with the BOM
    header, *rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "策略 / Policy" in header and "策略版本 / Policy version" in header
    policy, version = header.index("策略 / Policy"), header.index("策略版本 / Policy version")
    assert len(rows) == 3
    assert all((row[policy], row[version]) == ("intranet-office", "2026.11") for row in rows)
    due = header.index("整改期限 / Due date")
    assert [row[due] != "" for row in rows].count(True) == 1  # the rectified rule


def test_create_records_the_file_hash_in_the_audit_log_and_leaves_no_temporary_file(
    fleet: Fleet, tmp_path: Path
) -> None:
    from server.accounts.audit import verify_chain
    from server.accounts.models import AuditEntry

    path = tmp_path / "out" / "county.zip"
    path.parent.mkdir()
    created = create(fleet.county, path)

    entry = AuditEntry.objects.filter(action="snapshot.create").get()
    assert (entry.actor, entry.target) == ("cli:test", COUNTY)
    assert entry.details["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert created.sha256 == entry.details["sha256"] and created.hosts == 1
    assert [item.name for item in path.parent.iterdir()] == ["county.zip"]
    assert verify_chain() is None


def test_hostile_names_are_neutralised_in_csv_and_escaped_in_html(
    db: None, client: Client, tmp_path: Path
) -> None:
    from server.accounts.units import find_unit

    pc = enroll(client, COUNTY, "pc-1")
    software = [
        {"name": HOSTILE_SOFTWARE, "version": "1.0"},
        {"name": "@SUM(1+1)*cmd|' /C calc'!A0", "version": "-2+3"},
    ]
    payload = full_report(pc, office_findings(), hostname=HOSTILE_HOSTNAME, software=software)
    post(client, pc.envelope(payload))
    path = tmp_path / "hostile.zip"
    create(find_unit(COUNTY), path)
    members = members_of(path)

    hosts_csv = members["hosts.csv"].decode("utf-8")
    software_csv = members["software.csv"].decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(hosts_csv + software_csv)) for cell in row]
    assert "'" + HOSTILE_HOSTNAME in cells and HOSTILE_HOSTNAME not in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells and "'-2+3" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    page = members["snapshot.html"].decode("utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page or HOSTILE_SOFTWARE not in page
    assert "=cmd|&#x27; /C calc&#x27;!A0" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched when printed
    assert verify(path).valid


# --- what verify detects -------------------------------------------------------------------


def test_an_edited_csv_cell_is_detected(snapshot: Path) -> None:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        text = members["hosts.csv"].decode("utf-8").replace("张三", "李四")  # same length
        return {**members, "hosts.csv": text.encode("utf-8")}

    outcome = verify(tampered(snapshot, edit))

    assert problems(outcome) == [
        ("hosts.csv", "its SHA-256 does not match the manifest (changed after signing)")
    ]


def test_a_changed_result_resigned_by_another_key_fails_the_signature(snapshot: Path) -> None:
    intruder = Ed25519PrivateKey.generate()

    outcome = verify(
        tampered(
            snapshot,
            lambda m: resign(with_result_status(m, "no-games", "pass"), intruder, embed_key=False),
        )
    )

    assert has_problem(outcome, "manifest.sig", "does not verify with the server key")
    assert has_problem(outcome, "snapshot.json", "rule no-games: status 'pass' (signed: 'fail')")


def test_a_snapshot_signed_by_another_key_fails_the_expected_fingerprint(snapshot: Path) -> None:
    intruder = Ed25519PrivateKey.generate()
    path = tampered(snapshot, lambda m: resign(m, intruder))

    without = verify(path)
    expected = verify(path, server_fingerprint().upper())

    assert without.valid and without.fingerprint != server_fingerprint()  # consistent, yet…
    assert problems(expected) == [
        (
            "manifest.json",
            f"signed by the key with fingerprint {without.fingerprint}, "
            f"not the expected {server_fingerprint()}",
        )
    ]


def test_a_changed_result_with_a_substituted_key_is_caught_twice(snapshot: Path) -> None:
    intruder = Ed25519PrivateKey.generate()
    path = tampered(
        snapshot, lambda m: resign(with_result_status(m, "no-internet", "pass"), intruder)
    )

    outcome = verify(path, server_fingerprint())

    assert has_problem(outcome, "manifest.json", "not the expected")
    assert has_problem(outcome, "snapshot.json", "rule no-internet: status 'pass' (signed: 'fail')")


def test_results_that_differ_from_what_agents_signed_are_reported_even_when_the_server_signs(
    snapshot: Path,
) -> None:
    from server.lib.server_key import current_server_key

    path = tampered(
        snapshot,
        lambda m: resign(with_result_status(m, "no-games", "pass"), current_server_key()),
    )

    outcome = verify(path, server_fingerprint())

    assert len(problems(outcome)) == 1
    ((member, reason),) = problems(outcome)
    assert member == "snapshot.json"
    assert "rule no-games: status 'pass' (signed: 'fail')" in reason
    assert "not what signed report #1 says" in reason


def test_a_server_that_rewrites_the_asset_fields_is_caught(snapshot: Path) -> None:
    from server.lib.server_key import current_server_key

    def rewrite(members: dict[str, bytes]) -> dict[str, bytes]:
        snapshot_json = json.loads(members["snapshot.json"])
        snapshot_json["hosts"][0]["responsible_person"] = "王五"
        members = {**members, "snapshot.json": canonical_json(snapshot_json)}
        return resign(members, current_server_key())

    outcome = verify(tampered(snapshot, rewrite))

    assert has_problem(outcome, "snapshot.json", "responsible_person '王五'")


def test_a_flipped_envelope_byte_is_detected(fleet: Fleet, snapshot: Path) -> None:
    name = f"reports/{fleet.county_pc.host_id}/1.envelope"

    def flip(members: dict[str, bytes]) -> dict[str, bytes]:
        envelope = json.loads(members[name])
        signature = bytearray(base64.b64decode(envelope["signature"]))
        signature[10] ^= 0x01
        envelope["signature"] = base64.b64encode(bytes(signature)).decode()
        return {**members, name: canonical_json(envelope)}

    outcome = verify(tampered(snapshot, flip))

    assert problems(outcome) == [
        (name, "its SHA-256 does not match the manifest (changed after signing)"),
        (name, "the agent's signature does not verify with the host's key"),
    ]


def test_a_removed_member_is_detected(snapshot: Path) -> None:
    outcome = verify(
        tampered(snapshot, lambda m: {k: v for k, v in m.items() if k != "findings.csv"})
    )

    assert problems(outcome) == [
        ("findings.csv", "listed in the manifest but missing from the archive")
    ]


def test_an_added_member_is_detected(snapshot: Path) -> None:
    outcome = verify(tampered(snapshot, lambda m: {**m, "notes.txt": b"all fine"}))

    assert problems(outcome) == [("notes.txt", "not listed in the manifest (added after signing)")]


def test_a_member_name_that_escapes_the_folder_is_detected(snapshot: Path) -> None:
    outcome = verify(tampered(snapshot, lambda m: {**m, "../../etc/cron.d/x": b"* * * * *"}))

    assert has_problem(outcome, "../../etc/cron.d/x", "path traversal")


def test_a_member_stored_twice_is_detected(snapshot: Path) -> None:
    def duplicate(members: dict[str, bytes]) -> list[tuple[str, bytes]]:
        return [*members.items(), ("hosts.csv", b"\xef\xbb\xbfforged")]

    with pytest.warns(UserWarning, match="Duplicate name"):
        path = tampered(snapshot, duplicate)

    assert has_problem(verify(path), "hosts.csv", "appears 2 times in the archive")


def test_an_edited_manifest_fails_the_signature(snapshot: Path) -> None:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        manifest = json.loads(members["manifest.json"])
        manifest["unit"] = "北京市"
        return {**members, "manifest.json": canonical_json(manifest)}

    outcome = verify(tampered(snapshot, edit))

    assert has_problem(outcome, "manifest.sig", "does not verify with the server key")
    assert has_problem(outcome, "snapshot.json", "its unit is not the manifest's")


def test_a_replaced_signature_fails(snapshot: Path) -> None:
    forged = base64.b64encode(bytes(64)).decode().encode()

    outcome = verify(tampered(snapshot, lambda m: {**m, "manifest.sig": forged}))

    assert problems(outcome) == [
        (
            "manifest.sig",
            "does not verify with the server key in manifest.json: the manifest was changed "
            "after signing, or the signature was made with another key",
        )
    ]


def test_a_missing_signature_is_reported(snapshot: Path) -> None:
    outcome = verify(
        tampered(snapshot, lambda m: {k: v for k, v in m.items() if k != "manifest.sig"})
    )

    assert problems(outcome) == [("manifest.sig", "missing: the manifest is not signed")]


# --- the commands --------------------------------------------------------------------------


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No CUSTOS_* variable, no Django settings, a HOME with nothing in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUSTOS_", "DJANGO_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / "data")
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def run_verify(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "verify", *args],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_verify_runs_without_a_database_settings_or_data_directory(
    snapshot: Path, tmp_path: Path
) -> None:
    completed = run_verify(tmp_path, str(snapshot), "--fingerprint", server_fingerprint())

    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "valid"
    assert f"unit: {COUNTY}" in lines and "hosts: 1" in lines and "reports: 2" in lines
    assert f"server key fingerprint (SHA-256): {server_fingerprint()}" in lines
    assert list((tmp_path / "home").iterdir()) == []  # no data directory was made
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, server.snapshots.verify; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))",
        ],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def test_verify_prints_every_problem_and_exits_1(snapshot: Path, tmp_path: Path) -> None:
    path = tampered(
        snapshot,
        lambda m: {**{k: v for k, v in m.items() if k != "software.csv"}, "x.txt": b"x"},
    )

    completed = run_verify(tmp_path, str(path))

    assert completed.returncode == 1
    assert f"{path}: software.csv: listed in the manifest but missing from the archive" in (
        completed.stdout
    )
    assert f"{path}: x.txt: not listed in the manifest (added after signing)" in completed.stdout
    assert "valid\n" not in completed.stdout and "server key fingerprint" in completed.stdout


def test_verify_exits_2_on_a_file_that_is_not_a_snapshot(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    other_zip = tmp_path / "other.zip"
    write_members(other_zip, {"readme.txt": b"hi"})

    for path, words in (
        (text, "cannot read it as a ZIP archive"),
        (other_zip, "it has no manifest.json"),
        (tmp_path / "missing.zip", "cannot read it as a ZIP archive"),
    ):
        completed = run_verify(tmp_path, str(path))
        assert completed.returncode == 2, completed.stderr
        assert words in completed.stderr and "not a readable snapshot" in completed.stderr


def test_snapshot_create_of_an_unknown_unit_is_a_usage_error(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main

    status = main(["snapshot", "create", "--unit", "北京市/无此单位", "--out", str(tmp_path / "x")])

    assert status == 2
    assert "no unit '北京市/无此单位'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --- end to end: real server, real HTTP, real commands -------------------------------------


@pytest.fixture
def served_fleet(tmp_path: Path) -> Iterator[Path]:
    """A data directory whose server took one full report and one heartbeat over HTTP."""
    from tests.server.test_server_run import start_server, stop

    data = tmp_path / "data"
    assert run_server(data, "migrate").returncode == 0
    assert run_server(data, "unit", "add", COUNTY).returncode == 0
    token = run_server(data, "token", "create", "--unit", COUNTY).stdout.strip()
    server = start_server(data)
    try:
        agent = SimulatedAgent()
        answer = httpx.post(server.url + "/api/v1/enroll", content=agent.enrollment_body(token))
        assert answer.status_code == 201, answer.text
        agent.enrolled(answer.json())
        payload = full_report(agent, office_findings())
        for body in (
            agent.envelope(payload),
            agent.envelope(agent.heartbeat_payload(payload["state_hash"])),
        ):
            assert httpx.post(server.url + "/api/v1/reports", content=body).status_code == 200
    finally:
        stop(server)
    yield data


@pytest.mark.slow
def test_snapshot_create_then_verify_through_the_real_commands(
    served_fleet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "快照.zip"

    created = run_server(served_fleet, "snapshot", "create", "--unit", "北京市", "--out", str(out))
    fingerprint = run_server(served_fleet, "key", "fingerprint").stdout.strip()
    verified = run_verify(tmp_path, str(out), "--fingerprint", fingerprint)

    assert created.returncode == 0, created.stderr
    assert f"{out}: snapshot of 北京市 written" in created.stdout
    assert "hosts: 1, reports: 2" in created.stdout
    assert f"server key fingerprint (SHA-256): {fingerprint}" in created.stdout
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("valid\n")
    assert "the server key is the expected one (--fingerprint)" in verified.stdout
    audit = run_server(served_fleet, "audit", "verify")
    assert audit.returncode == 0 and "audit chain intact" in audit.stdout

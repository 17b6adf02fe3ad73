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
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def hosts_in(members: dict[str, bytes]) -> list[dict[str, Any]]:
    """snapshot.json's host records (it is one JSON document, whatever its layout)."""
    return list(json.loads(members["snapshot.json"])["hosts"])


def report_lines(members: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in members["reports.jsonl"].splitlines()]


def laid_out(document: dict[str, Any]) -> bytes:
    """snapshot.json for `document`, laid out as create writes it (a line per host)."""
    from server.snapshots.document import Header, HostLines, Tally, end_line, header_line

    header = Header(document["unit"], document["created_at"], document["server_key_fingerprint"])
    out = io.BytesIO()
    out.write(header_line(header))
    lines = HostLines(out.write)
    for host in document["hosts"]:
        lines.add(canonical_json(host))
    lines.close()
    tally = Tally(document["summary"]["hosts"], document["summary"]["states"])
    out.write(end_line(tally))
    return out.getvalue()


def regenerated(members: dict[str, bytes]) -> dict[str, bytes]:
    """The CSVs and the page rebuilt from snapshot.json as it is now: what a server that
    lies consistently would write."""
    from server.snapshots.derived import DERIVED
    from server.snapshots.document import Header, Tally

    document = json.loads(members["snapshot.json"])
    header = Header(document["unit"], document["created_at"], document["server_key_fingerprint"])
    tally = Tally(document["summary"]["hosts"], document["summary"]["states"])
    rebuilt = dict(members)
    for member in DERIVED:
        parts = member.head(header)
        for host in document["hosts"]:
            parts += member.rows(host)
        parts += member.middle(tally)
        for host in document["hosts"]:
            parts += member.sheets(host)
        rebuilt[member.name] = b"".join(parts + member.tail())
    return rebuilt


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


def with_document(
    members: dict[str, bytes], change: Callable[[dict[str, Any]], None]
) -> dict[str, bytes]:
    """snapshot.json changed by `change` (its derived members left as they were)."""
    document = json.loads(members["snapshot.json"])
    change(document)
    return {**members, "snapshot.json": laid_out(document)}


def with_result_status(members: dict[str, bytes], rule: str, status: str) -> dict[str, bytes]:
    def change(document: dict[str, Any]) -> None:
        for host in document["hosts"]:
            for result in host["results"]:
                if result["rule"] == rule:
                    result["status"] = status

    return with_document(members, change)


def tampered(snapshot: Path, change: Callable[[dict[str, bytes]], Any]) -> Path:
    members = members_of(snapshot)
    changed = change(members)
    out = snapshot.with_name("tampered.zip")
    write_members(out, changed)
    return out


def server_signed(change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Any:
    """`change`, then a manifest signed with the real server key: the server lying."""
    from server.lib.server_key import current_server_key

    return lambda members: resign(change(members), current_server_key())


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

    county_hosts = {h["host_id"] for h in hosts_in(members_of(county))}
    city_hosts = {h["host_id"] for h in hosts_in(members_of(city))}
    assert county_hosts == {fleet.county_pc.host_id}
    assert city_hosts == {fleet.county_pc.host_id, fleet.other_pc.host_id}
    assert all(
        line["host_id"] != fleet.other_pc.host_id for line in report_lines(members_of(county))
    )
    assert verify(city).valid


def test_a_host_record_carries_the_check_sheet_and_the_reports_it_rests_on(
    fleet: Fleet, snapshot: Path
) -> None:
    members = members_of(snapshot)
    (host,) = hosts_in(members)

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
    assert host["state"] == "noncompliant"
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

    lines = report_lines(members)
    assert [(line["host_id"], line["seq"]) for line in lines] == [
        (fleet.county_pc.host_id, 1),
        (fleet.county_pc.host_id, 2),
    ]
    for line in lines:
        stored = Report.objects.get(host__host_id=line["host_id"], seq=line["seq"]).envelope
        assert line["envelope"].encode("utf-8") == bytes(stored)  # byte for byte


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


def test_characters_that_hide_or_reorder_text_are_shown_on_the_page(
    db: None, client: Client, tmp_path: Path
) -> None:
    from server.accounts.units import find_unit

    pc = enroll(client, COUNTY, "pc-1")
    hostname = "pc\u202eexe.fdp\u200b\u0007"  # reads "pcpdf.exe" where the override acts
    payload = full_report(pc, office_findings(), hostname=hostname)
    post(client, pc.envelope(payload))
    path = tmp_path / "hidden.zip"
    create(find_unit(COUNTY), path)
    page = members_of(path)["snapshot.html"].decode("utf-8")

    assert "\u202e" not in page and "\u200b" not in page and "\u0007" not in page
    shown = '<span class="hidden-char">&lt;U+{}&gt;</span>'
    assert (
        "pc" + shown.format("202E") + "exe.fdp" + shown.format("200B") + shown.format("0007")
        in page
    )
    assert verify(path).valid


# --- what verify detects -------------------------------------------------------------------


def test_an_edited_csv_cell_is_detected_with_its_row(fleet: Fleet, snapshot: Path) -> None:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        text = members["hosts.csv"].decode("utf-8").replace("张三", "李四")  # same length
        return {**members, "hosts.csv": text.encode("utf-8")}

    outcome = verify(tampered(snapshot, edit))

    assert problems(outcome) == [
        (
            "hosts.csv",
            f"row 2 (host {fleet.county_pc.host_id}): 责任人 / Responsible person is '李四'; "
            "snapshot.json gives '张三'",
        ),
        ("hosts.csv", "its SHA-256 does not match the manifest (changed after signing)"),
    ]


def test_a_changed_result_resigned_by_another_key_fails_the_signature_and_stops_there(
    snapshot: Path,
) -> None:
    intruder = Ed25519PrivateKey.generate()

    outcome = verify(
        tampered(
            snapshot,
            lambda m: resign(with_result_status(m, "no-games", "pass"), intruder, embed_key=False),
        )
    )

    assert problems(outcome) == [
        (
            "manifest.sig",
            "does not verify with the server key in manifest.json: the manifest was changed "
            "after signing, or the signature was made with another key "
            "(nothing else in the file was read)",
        )
    ]


def test_a_snapshot_signed_by_another_key_fails_the_expected_fingerprint(snapshot: Path) -> None:
    intruder = Ed25519PrivateKey.generate()
    path = tampered(snapshot, lambda m: resign(m, intruder))

    without = verify(path)
    expected = verify(path, server_fingerprint().upper())

    assert problems(without) == [
        ("snapshot.json", "the server key fingerprint it states is not that of the manifest's key")
    ]
    assert without.fingerprint != server_fingerprint()
    assert problems(expected) == [
        (
            "manifest.json",
            f"signed by the key with fingerprint {without.fingerprint}, "
            f"not the expected {server_fingerprint()}",
        ),
        ("snapshot.json", "the server key fingerprint it states is not that of the manifest's key"),
    ]


def test_a_consistent_forgery_signed_by_another_key_verifies_only_without_the_fingerprint(
    snapshot: Path,
) -> None:
    intruder = Ed25519PrivateKey.generate()

    def forge(members: dict[str, bytes]) -> dict[str, bytes]:
        from server.snapshots.bundle import fingerprint, raw_public_key

        def change(document: dict[str, Any]) -> None:
            document["server_key_fingerprint"] = fingerprint(raw_public_key(intruder))

        return resign(regenerated(with_document(members, change)), intruder)

    path = tampered(snapshot, forge)

    assert verify(path).valid  # consistent, yet…
    assert has_problem(verify(path, server_fingerprint()), "manifest.json", "not the expected")


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
    path = tampered(
        snapshot,
        server_signed(lambda m: regenerated(with_result_status(m, "no-games", "pass"))),
    )

    outcome = verify(path, server_fingerprint())

    assert len(problems(outcome)) == 1
    ((member, reason),) = problems(outcome)
    assert member == "snapshot.json"
    assert "rule no-games: status 'pass' (signed: 'fail')" in reason
    assert "not what signed report #1 says" in reason


def test_a_server_that_rewrites_the_asset_fields_is_caught(snapshot: Path) -> None:
    def rewrite(document: dict[str, Any]) -> None:
        document["hosts"][0]["responsible_person"] = "王五"

    outcome = verify(
        tampered(snapshot, server_signed(lambda m: regenerated(with_document(m, rewrite))))
    )

    assert has_problem(outcome, "snapshot.json", "responsible_person '王五'")


def test_spreadsheets_that_say_pass_where_the_agent_signed_fail_are_caught_by_row(
    fleet: Fleet, snapshot: Path
) -> None:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        rows = members["findings.csv"].decode("utf-8").split("\r\n")
        (games,) = [number for number, row in enumerate(rows) if ",no-games," in row]
        rows[games] = rows[games].replace(",不合格 fail,", ",合格 pass,")
        return {**members, "findings.csv": "\r\n".join(rows).encode("utf-8")}

    outcome = verify(tampered(snapshot, server_signed(edit)), server_fingerprint())

    assert problems(outcome) == [
        (
            "findings.csv",
            f"row 2 (host {fleet.county_pc.host_id}): 结果 / Result is '合格 pass'; "
            "snapshot.json gives '不合格 fail'",
        )
    ]


def test_a_printable_page_that_says_pass_where_the_agent_signed_fail_is_caught_by_line(
    fleet: Fleet, snapshot: Path
) -> None:
    edited: list[int] = []

    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        lines = members["snapshot.html"].decode("utf-8").split("\n")
        (games,) = [n for n, line in enumerate(lines) if "规则 no-games" in line]
        lines[games] = (
            lines[games].replace('<tr class="fail">', "<tr>").replace("不合格 fail", "合格 pass")
        )
        edited.append(games + 1)
        return {**members, "snapshot.html": "\n".join(lines).encode("utf-8")}

    outcome = verify(tampered(snapshot, server_signed(edit)), server_fingerprint())

    ((member, reason),) = problems(outcome)
    assert member == "snapshot.html"
    assert reason.startswith(f"line {edited[0]} (host {fleet.county_pc.host_id}): ")
    assert (
        "'<tr><td>规则 no-games" in reason and 'snapshot.json gives \'<tr class="fail">' in reason
    )


def test_a_flipped_envelope_byte_is_detected(fleet: Fleet, snapshot: Path) -> None:
    def flip(members: dict[str, bytes]) -> dict[str, bytes]:
        lines = report_lines(members)
        envelope = json.loads(lines[0]["envelope"])
        signature = bytearray(base64.b64decode(envelope["signature"]))
        signature[10] ^= 0x01
        envelope["signature"] = base64.b64encode(bytes(signature)).decode()
        lines[0]["envelope"] = canonical_json(envelope).decode()
        text = b"".join(canonical_json(line) + b"\n" for line in lines)
        return {**members, "reports.jsonl": text}

    outcome = verify(tampered(snapshot, flip))

    assert problems(outcome) == [
        (
            "reports.jsonl",
            f"line 1: report #1 of {fleet.county_pc.host_id}: the agent's signature does not "
            "verify with the host's key",
        ),
        ("reports.jsonl", "its SHA-256 does not match the manifest (changed after signing)"),
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


def test_an_edited_manifest_fails_the_signature_and_nothing_else_is_read(snapshot: Path) -> None:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        manifest = json.loads(members["manifest.json"])
        manifest["unit"] = "北京市"
        return {**members, "manifest.json": canonical_json(manifest), "hosts.csv": b"garbage"}

    outcome = verify(tampered(snapshot, edit))

    assert [member for member, _ in problems(outcome)] == ["manifest.sig"]
    assert outcome.hosts == 0 and outcome.reports == 0  # snapshot.json was never opened


def test_a_replaced_signature_fails(snapshot: Path) -> None:
    forged = base64.b64encode(bytes(64)).decode().encode()

    outcome = verify(tampered(snapshot, lambda m: {**m, "manifest.sig": forged}))

    assert problems(outcome) == [
        (
            "manifest.sig",
            "does not verify with the server key in manifest.json: the manifest was changed "
            "after signing, or the signature was made with another key "
            "(nothing else in the file was read)",
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


# --- a file made to exhaust the verifier -------------------------------------------------

GIB = 1 << 30
VERIFY_MEMORY_LIMIT = 768 * 1024 * 1024  # address space; inflating the bomb needs more


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """Raw deflate data that inflates to `size` zero bytes (whole mebibytes), and its CRC-32:
    one mebibyte compressed and fully flushed (so it refers to nothing before it), repeated."""
    mebibyte = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(mebibyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(mebibyte, crc)
    return block * (size >> 20) + compressor.flush(zlib.Z_FINISH), crc


def handmade_zip(path: Path, entries: list[tuple[str, bytes, int, int, bool]]) -> None:
    """A ZIP written field by field, as an attacker writes one: (name, stored bytes, inflated
    size, CRC-32, deflated)."""
    local, central = bytearray(), bytearray()
    for name, data, size, crc, deflated in entries:
        raw, method, offset = name.encode(), 8 if deflated else 0, len(local)
        fields = (0x800, method, 0, 0x21, crc, len(data), size, len(raw), 0)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, *fields) + raw + data
        central += (
            struct.pack("<IHH", 0x02014B50, 20, 20)
            + struct.pack("<HHHHIIIHH", *fields)
            + struct.pack("<HHHII", 0, 0, 0, 0, offset)
            + raw
        )
    count = len(entries)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))


def bomb(path: Path, signed_by: Ed25519PrivateKey | None) -> None:
    """A 1 MB snapshot whose snapshot.json inflates to 1 GiB, as its manifest claims; the
    manifest is signed by `signed_by` (a key of the attacker's own), or its signature is
    garbage."""
    from server.snapshots.bundle import FORMAT, FORMAT_VERSION, fingerprint, raw_public_key

    key = signed_by or Ed25519PrivateKey.generate()
    public = raw_public_key(key)
    data, crc = deflated_zeros(GIB)
    manifest = canonical_json(
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "unit": COUNTY,
            "created_at": "2026-11-27T08:00:00Z",
            "server_key": {
                "algorithm": "ed25519",
                "public_key": base64.b64encode(public).decode(),
                "fingerprint_sha256": fingerprint(public),
            },
            "counts": {"hosts": 0, "reports": 0},
            "members": [{"name": "snapshot.json", "sha256": "0" * 64, "size": GIB}],
        }
    )
    signature = (
        sign(signed_by, SNAPSHOT_DOMAIN, manifest).encode()
        if signed_by
        else base64.b64encode(bytes(64))
    )
    handmade_zip(
        path,
        [
            ("snapshot.json", data, GIB, crc, True),
            ("manifest.json", manifest, len(manifest), zlib.crc32(manifest), False),
            ("manifest.sig", signature, len(signature), zlib.crc32(signature), False),
        ],
    )


def run_verify_within(memory: int, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`custos-server verify` in a process whose address space is limited to `memory`."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "server", "verify", *args],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


def test_a_bomb_behind_a_manifest_whose_signature_fails_is_never_inflated(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    bomb(path, signed_by=None)
    assert path.stat().st_size < 2 * 1024 * 1024

    completed = run_verify_within(VERIFY_MEMORY_LIMIT, tmp_path, str(path))

    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    problem_lines = [line for line in completed.stdout.splitlines() if line.startswith(str(path))]
    assert problem_lines == [
        f"{path}: manifest.sig: does not verify with the server key in manifest.json: the "
        "manifest was changed after signing, or the signature was made with another key "
        "(nothing else in the file was read)"
    ]


def test_a_bomb_behind_a_self_signed_manifest_is_refused_by_its_compression_ratio(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bomb.zip"
    bomb(path, signed_by=Ed25519PrivateKey.generate())

    completed = run_verify_within(VERIFY_MEMORY_LIMIT, tmp_path, str(path))

    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert f"{path}: snapshot.json: inflates " in completed.stdout
    assert f"to {GIB} (a ratio over 200): a ZIP bomb, not read" in completed.stdout


def test_an_archive_of_forty_thousand_members_is_refused_before_its_directory_is_parsed(
    snapshot: Path, tmp_path: Path
) -> None:
    from server.snapshots.bundle import NotASnapshotError

    path = tmp_path / "crowded.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members_of(snapshot).items():
            archive.writestr(name, data)
        for number in range(40_000):
            archive.writestr(f"x/{number}", b"")

    began = time.monotonic()
    with pytest.raises(NotASnapshotError, match=r"lists 40008 members in .* at most 64 members"):
        verify(path)
    assert time.monotonic() - began < 5  # the quadratic check took 107 s for 40,000


def test_a_line_over_the_ceiling_is_reported_without_reading_it_whole(
    snapshot: Path, tmp_path: Path
) -> None:
    from server.snapshots.bundle import MAX_LINE_BYTES

    def stuff(members: dict[str, bytes]) -> dict[str, bytes]:
        header, rest = members["snapshot.json"].split(b"\n", 1)
        noise = base64.b64encode(os.urandom(MAX_LINE_BYTES // 4 * 3 + 30))  # no line break
        padded = header + b"\n" + noise + rest
        return resign({**members, "snapshot.json": padded}, Ed25519PrivateKey.generate())

    path = tampered(snapshot, stuff)
    completed = run_verify_within(VERIFY_MEMORY_LIMIT, tmp_path, str(path))

    assert completed.returncode == 1, completed.stderr
    assert f"{path}: snapshot.json: line 2 is over {MAX_LINE_BYTES} bytes" in completed.stdout


# --- verify itself failing ----------------------------------------------------------------


def test_a_crash_inside_verify_exits_3_with_one_line_and_no_traceback(
    snapshot: Path, tmp_path: Path
) -> None:
    program = (
        "import sys\n"
        "import server.snapshots.verify as verify\n"
        "def broken(*args):\n"
        "    raise RuntimeError('simulated bug\\nsecond line')\n"
        "verify.verify_snapshot = broken\n"
        "from server.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", program, "verify", str(snapshot)],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 3
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    (line,) = completed.stderr.splitlines()
    assert "RuntimeError: simulated bug second line" in line and "was not judged" in line


# --- could not be checked (issue 8) ------------------------------------------------------


@dataclass
class StateFleet:
    compliant: SimulatedAgent
    noncompliant: SimulatedAgent
    unchecked: SimulatedAgent  # a source could not be read; nothing failed
    unknown: SimulatedAgent  # enrolled, no full report yet


@pytest.fixture
def state_fleet(db: None, client: Client) -> StateFleet:
    findings = {
        "compliant": [finding("vrv-installed", installed=True, running=True), finding("usb")],
        "noncompliant": [finding("vrv-installed", "fail"), finding("usb", "error")],
        "unchecked": [
            finding("vrv-installed", installed=True, running=True),
            finding("usb", "error"),
        ],
    }
    pcs = {}
    for name, results in findings.items():
        pcs[name] = enroll(client, COUNTY, f"pc-{name}")
        post(client, pcs[name].envelope(full_report(pcs[name], results)))
    return StateFleet(**pcs, unknown=enroll(client, COUNTY, "pc-new"))


def test_a_pc_whose_checks_could_not_run_is_unchecked_in_records_summary_and_counts(
    state_fleet: StateFleet, tmp_path: Path
) -> None:
    from server.accounts.units import find_unit

    path = tmp_path / "states.zip"
    create(find_unit(COUNTY), path)
    members = members_of(path)
    outcome = verify(path)

    by_host = {host["host_id"]: host["state"] for host in hosts_in(members)}
    assert by_host == {
        state_fleet.compliant.host_id: "compliant",
        state_fleet.noncompliant.host_id: "noncompliant",
        state_fleet.unchecked.host_id: "unchecked",
        state_fleet.unknown.host_id: "unknown",
    }
    states = {"compliant": 1, "noncompliant": 1, "unchecked": 1, "unknown": 1}
    assert json.loads(members["snapshot.json"])["summary"] == {"hosts": 4, "states": states}
    manifest = json.loads(members["manifest.json"])
    assert manifest["counts"] == {"hosts": 4, "reports": 3, "states": states}
    rows = list(csv.DictReader(io.StringIO(members["hosts.csv"].decode().lstrip("\ufeff"))))
    assert {row["主机标识 / Host ID"]: row["合规状态 / Compliance"] for row in rows}[
        state_fleet.unchecked.host_id
    ] == "未能检查 could not be checked"
    assert "<tr><th>未能检查 could not be checked</th><td>1</td></tr>" in (
        members["snapshot.html"].decode()
    )
    assert problems(outcome) == [] and outcome.states == states


def test_a_server_that_calls_an_unchecked_pc_compliant_is_caught(
    state_fleet: StateFleet, tmp_path: Path
) -> None:
    from server.accounts.units import find_unit

    path = tmp_path / "states.zip"
    create(find_unit(COUNTY), path)

    def whitewash(document: dict[str, Any]) -> None:
        for host in document["hosts"]:
            if host["host_id"] == state_fleet.unchecked.host_id:
                host["state"] = "compliant"
        document["summary"]["states"].update(compliant=2, unchecked=0)

    def lie(members: dict[str, bytes]) -> dict[str, bytes]:
        members = regenerated(with_document(members, whitewash))
        manifest = json.loads(members["manifest.json"])
        manifest["counts"]["states"].update(compliant=2, unchecked=0)
        return {**members, "manifest.json": canonical_json(manifest)}

    outcome = verify(tampered(path, server_signed(lie)), server_fingerprint())

    assert problems(outcome) == [
        (
            "snapshot.json",
            f"host {state_fleet.unchecked.host_id}: state 'compliant' is not 'unchecked': "
            "signed report #1 gives",
        )
    ]


def test_a_worker_process_checks_the_derived_members_as_verify_itself_does(
    fleet: Fleet, snapshot: Path
) -> None:
    def edit(members: dict[str, bytes]) -> dict[str, bytes]:
        text = members["findings.csv"].decode("utf-8").replace(",不合格 fail,", ",合格 pass,", 1)
        page = members["snapshot.html"].decode("utf-8").replace("不合格 fail", "合格 pass", 1)
        return {**members, "findings.csv": text.encode(), "snapshot.html": page.encode()}

    path = tampered(snapshot, server_signed(edit))
    here = verify(path, server_fingerprint())
    from server.snapshots.verify import verify_snapshot

    beside = verify_snapshot(path, server_fingerprint(), parallel=True)

    assert [member for member, _ in problems(here)] == ["findings.csv", "snapshot.html"]
    assert problems(beside) == problems(here)
    assert verify_snapshot(snapshot, server_fingerprint(), parallel=True).valid
    listed = {
        item["name"]: [item["sha256"], item["size"]]
        for item in json.loads(members_of(path)["manifest.json"])["members"]
        if item["name"] not in ("reports.jsonl",)
    }
    worker = subprocess.run(  # what verify starts beside itself, answering as it must
        [sys.executable, "-m", "server.snapshots.derived_check"],
        input=json.dumps({"path": str(path), "listed": listed}) + "\n",
        capture_output=True,
        text=True,
        env=clean_env(path.parent),
        timeout=120,
        check=True,
    )
    assert json.loads(worker.stdout) == {
        "kept": [[problem.member, problem.reason] for problem in here.problems],
        "more": 0,
    }


def test_a_worker_process_renders_the_same_spreadsheets_and_page_as_create_itself(
    fleet: Fleet, tmp_path: Path
) -> None:
    from django.utils import timezone

    from server.snapshots.create import create_snapshot

    now = timezone.now()
    here, beside = tmp_path / "here.zip", tmp_path / "beside.zip"
    create_snapshot(fleet.county, here, "cli:test", now=now, parallel=False)
    create_snapshot(fleet.county, beside, "cli:test", now=now, parallel=True)

    names = ("snapshot.json", "reports.jsonl", "hosts.csv", "findings.csv", "software.csv")
    for name in (*names, "snapshot.html"):
        assert members_of(beside)[name] == members_of(here)[name], name
    assert verify(beside).valid
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]
    spool = tmp_path / "rows.part"
    request = {"rows": {"hosts.csv": str(spool)}, "sheets": {}}
    (line,) = members_of(here)["snapshot.json"].splitlines()[1:-1]
    worker = subprocess.run(  # what create starts beside itself, answering as it must
        [sys.executable, "-m", "server.snapshots.render"],
        input=json.dumps(request).encode() + b"\n" + line + b"\n",
        capture_output=True,
        env=clean_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert worker.returncode != 0  # every derived member's spool must be named
    request = {
        part: {name: str(tmp_path / f"{part}-{name}") for name in (*names[2:], "snapshot.html")}
        for part in ("rows", "sheets")
    }
    worker = subprocess.run(
        [sys.executable, "-m", "server.snapshots.render"],
        input=json.dumps(request).encode() + b"\n" + line + b"\n",
        capture_output=True,
        env=clean_env(tmp_path),
        timeout=120,
        check=True,
    )
    assert json.loads(worker.stdout) == {"hosts": 1}
    csv_rows = members_of(here)["hosts.csv"].split(b"\r\n", 1)[1]
    assert (tmp_path / "rows-hosts.csv").read_bytes() == csv_rows


def test_a_worker_that_dies_leaves_its_part_to_the_process_that_started_it(
    fleet: Fleet, snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.snapshots import workers
    from server.snapshots.create import create_snapshot
    from server.snapshots.verify import verify_snapshot

    start = workers.Worker.start

    def broken(module: str, request: dict[str, Any]) -> Any:  # a module that is not there
        return start("server.snapshots.no_such_worker", request)

    monkeypatch.setattr(workers.Worker, "start", staticmethod(broken))
    tampered_path = tampered(snapshot, server_signed(lambda m: {**m, "hosts.csv": b"x"}))
    path = tmp_path / "fallback.zip"
    create_snapshot(fleet.county, path, "cli:test", parallel=True)

    assert verify_snapshot(path, parallel=True).valid
    assert problems(verify_snapshot(tampered_path, parallel=True)) == problems(
        verify_snapshot(tampered_path, parallel=False)
    )
    assert has_problem(verify_snapshot(tampered_path, parallel=True), "hosts.csv", "row 1")


# --- reading payloads: the fast path is the slow path's result -------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.sampled_from(["a", "\\", "u", "0", "é", "\x00", "\ud800", "\U0001f600"])),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)


def read_payload(data: bytes) -> Any:
    """A payload as ingest reads and stores it (strict JSON, then clean_json); or the error."""
    from agent.protocol.envelope import load_json_object
    from agent.protocol.errors import ProtocolError
    from server.lib.storable import clean_json

    try:
        return clean_json(load_json_object(data, "the payload"), "bad_payload")
    except ProtocolError:
        return ProtocolError


def snapshot_read_payload(data: bytes) -> Any:
    from agent.protocol.envelope import Envelope
    from agent.protocol.errors import ProtocolError
    from server.snapshots.signed import payload_of

    envelope = Envelope("h_" + "0" * 32, 1, "2026-11-27T08:00:00Z", "identity", data, bytes(64))
    try:
        return payload_of(envelope)
    except ProtocolError:
        return ProtocolError


@given(value=st.dictionaries(st.text(max_size=3), JSON_VALUES, max_size=4), ascii=st.booleans())
@settings(max_examples=300, deadline=None)
def test_a_payload_read_without_the_cleaning_walk_is_what_the_walk_gives(
    value: dict[str, Any], ascii: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii)
    data = text.encode("utf-8", "surrogatepass")

    assert repr(snapshot_read_payload(data)) == repr(read_payload(data))


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1e400}',
        b'{"a":-1e400}',
        b'{"a":' + b"9" * 400 + b".0}",
        b'{"a":NaN}',
        b'{"a":[Infinity]}',
        b'{"a":"x\\u0000y"}',
        b'{"a\\u0000":"y"}',
        b'{"a":"\\ud800"}',
        b'{"a":"C:\\\\users\\\\u0000"}',
        b'{"a":1,"a":2}',
    ],
)
def test_payloads_that_need_cleaning_or_refusal_are_read_as_ingest_reads_them(data: bytes) -> None:
    assert repr(snapshot_read_payload(data)) == repr(read_payload(data))


@pytest.mark.parametrize("byte", [0, ord("\r"), ord("\n"), ord('"')])
def test_a_spreadsheet_row_that_is_no_longer_csv_is_reported(
    fleet: Fleet, snapshot: Path, byte: int
) -> None:
    def break_row(members: dict[str, bytes]) -> dict[str, bytes]:
        data = bytearray(members["hosts.csv"])
        data[data.index("张三".encode())] = byte
        return {**members, "hosts.csv": bytes(data)}

    outcome = verify(tampered(snapshot, server_signed(break_row)))

    assert [member for member, _ in problems(outcome)] == ["hosts.csv"]
    assert problems(outcome)[0][1].startswith("row 2")


@given(data=st.data())
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_change_to_any_member_is_reported_and_never_crashes_verify(
    snapshot: Path, data: st.DataObject
) -> None:
    """A forger with a key of their own changes bytes anywhere and signs the result."""
    members = members_of(snapshot)
    name = data.draw(st.sampled_from(sorted(set(members) - {"manifest.json", "manifest.sig"})))
    content = bytearray(members[name])
    at = data.draw(st.integers(0, len(content) - 1))
    content[at] = data.draw(st.integers(0, 255).filter(lambda byte: byte != content[at]))
    path = snapshot.with_name(f"forged-{name}.zip")
    write_members(path, resign({**members, name: bytes(content)}, Ed25519PrivateKey.generate()))

    outcome = verify(path)  # an outcome, not an exception

    assert all(member in members for member, _ in problems(outcome))
    if name != "snapshot.json":  # (where the server's own statements may change unseen)
        assert not outcome.valid


def test_an_export_that_fails_beside_its_worker_says_why_and_leaves_nothing(
    db: None, client: Client, tmp_path: Path
) -> None:
    from server.accounts.units import find_unit
    from server.errors import AdminError
    from server.fleet.models import Report
    from server.snapshots.create import create_snapshot

    pcs = [enroll(client, COUNTY, f"pc-{n}") for n in range(2)]
    for pc in pcs:
        post(client, pc.envelope(full_report(pc, office_findings())))
    last = max(pc.host_id for pc in pcs)  # exported after the other: its line is in the pipe
    Report.objects.filter(host__host_id=last).update(envelope=b"\xff not UTF-8")

    with pytest.raises(AdminError, match=f"host {last}: stored report #1 is not UTF-8"):
        create_snapshot(find_unit(COUNTY), tmp_path / "x.zip", "cli:test", parallel=True)
    assert list(tmp_path.iterdir()) == []

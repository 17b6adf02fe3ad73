"""CheckResult -> payload: full versus heartbeat, the payload schema, the signed envelope."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.evaluation import CheckResult, evaluate
from agent.facts import (
    AssetFields,
    HostFacts,
    Inventory,
    Neighbour,
    NeighbourFacts,
    Process,
    Service,
    Software,
)
from agent.policy.loader import load_policy_bytes
from agent.protocol.envelope import decode_envelope, format_time, verify_envelope
from agent.protocol.payload import validate_payload
from agent.reporting import FULL, HEARTBEAT, build_report, encode_report
from agent.state import Delivery
from tests.agent_service.fakeserver import raw_public
from tests.agent_service.helpers import SERVICE_POLICY

NOW = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.timezone.utc)
HOST_ID = "h_" + "a" * 32
POLICY = load_policy_bytes(SERVICE_POLICY.encode(), "service.yaml")


def host(person: str = "张三", boot: int = 0) -> HostFacts:
    return HostFacts(
        hostname="pc-0417",
        fqdn="pc-0417.unit.example",
        os_name="Debian GNU/Linux",
        os_version="12",
        kernel="6.1.0-18-amd64",
        platform="linux",
        machine_id="0123456789abcdef0123456789abcdef",
        mac_addresses=("52:54:00:12:34:56",),
        ip_addresses=("10.1.2.3",),
        disk_serials=("S3Z9NB0K123456",),
        users=("zhangsan",) if boot == 0 else ("zhangsan", "lisi"),
        boot_time=NOW - dt.timedelta(hours=3 + boot),
        agent_version="0.1.0",
        asset=AssetFields(machine_number="BJ-2026-0417", responsible_person=person),
    )


def result(
    person: str = "张三",
    software: str = "1.0",
    boot: int = 0,
    neighbours: tuple[Neighbour, ...] | None = None,
) -> CheckResult:
    inventory = Inventory(
        host=host(person, boot),
        software=(Software("wps-office", software, "Kingsoft", source="dpkg"),),
        processes=(Process(pid=4242 + boot, name="wps", exe="/opt/wps", user="zhangsan"),),
        services=(Service("cron", "cron", "running", "auto", "systemd"),),
        media=None,
        network=None,
        collected_at=NOW,
        agent_version="0.1.0",
        errors={"media": "not collected"},
        neighbours=None if neighbours is None else NeighbourFacts(neighbours, ("10.1.2.0/24",)),
    )
    findings = evaluate(POLICY, inventory, "linux", NOW)
    return CheckResult(policy=POLICY, inventory=inventory, findings=findings, checked_at=NOW)


def acknowledged(report_hash: str, days_ago: float = 0) -> Delivery:
    return Delivery(
        last_ack_seq=7,
        last_ack_at=format_time(NOW),
        last_full_state_hash=report_hash,
        last_full_at=format_time(NOW - dt.timedelta(days=days_ago)),
    )


def test_first_report_is_full_and_follows_the_payload_schema() -> None:
    report = build_report(result(person=""), "startup", Delivery(), now=NOW)
    assert report.kind == FULL and report.failing
    payload = report.payload
    validate_payload(payload)
    assert payload["trigger"] == "startup" and payload["answered_commands"] == []
    assert payload["policy"] == {"id": "service-test", "version": "1", "sha256": POLICY.sha256}
    assert payload["summary"] == {
        "compliant": False,
        "passed": 1,
        "failed": 1,
        "errors": 0,
        "not_applicable": 0,
    }
    finding = {f["rule"]: f for f in payload["findings"]}["asset-person"]
    assert finding["status"] == "fail"
    assert finding["title"] == {"zh": "责任人", "en": "Responsible person"}
    assert set(finding["message"]) == {"zh", "en"}
    assert finding["remedy"] == {"zh": "请登记责任人", "en": "Register the responsible person"}
    assert payload["host"]["hostname"] == "pc-0417"
    assert payload["host"]["asset"]["machine_number"] == "BJ-2026-0417"
    assert set(payload["inventory"]) == {"software", "services", "media", "network", "neighbours"}
    assert payload["inventory"]["software"][0]["name"] == "wps-office"
    assert "processes" not in json.dumps(payload["inventory"])
    assert payload["errors"] == {"media": "not collected"}


def test_unchanged_state_after_an_acknowledged_full_report_is_a_heartbeat() -> None:
    first = build_report(result(), "startup", Delivery(), now=NOW)
    # boot time, users and process ids are volatile: not part of the state
    later = build_report(
        result(boot=1),
        "schedule",
        acknowledged(first.state_hash),
        now=NOW,
        answered_commands=["c1"],
    )
    assert later.kind == HEARTBEAT and later.state_hash == first.state_hash
    assert not later.failing
    validate_payload(later.payload)
    assert not {"host", "findings", "inventory", "errors"} & set(later.payload)
    assert later.payload["answered_commands"] == ["c1"]
    assert later.payload["summary"]["compliant"] is True


GATEWAY = Neighbour("ipv4", "10.1.2.1", "00:0f:e2:11:22:01", "eth0", "reachable")
PRINTER = Neighbour("ipv4", "10.1.2.40", "00:1b:a9:44:55:66", "eth0", "reachable")


def test_neighbours_changing_state_in_the_table_are_no_change() -> None:
    first = build_report(result(neighbours=(GATEWAY, PRINTER)), "startup", Delivery(), now=NOW)
    assert first.payload["inventory"]["neighbours"]["entries"][1]["mac"] == "00:1b:a9:44:55:66"
    validate_payload(first.payload)
    stale = (
        dataclasses.replace(PRINTER, state="stale"),
        dataclasses.replace(GATEWAY, state="delay"),
    )
    later = build_report(result(neighbours=stale), "schedule", acknowledged(first.state_hash))
    assert later.kind == HEARTBEAT


def test_a_device_appearing_or_leaving_the_neighbour_table_sends_the_full_state() -> None:
    first = build_report(result(neighbours=(GATEWAY,)), "startup", Delivery(), now=NOW)
    appeared = build_report(
        result(neighbours=(GATEWAY, PRINTER)), "schedule", acknowledged(first.state_hash)
    )
    assert appeared.kind == FULL
    left = build_report(result(neighbours=()), "schedule", acknowledged(appeared.state_hash))
    assert left.kind == FULL and left.state_hash != first.state_hash


def test_a_report_without_neighbours_hashes_as_before_they_existed() -> None:
    from agent.protocol.payload import state_hash

    report = build_report(result(), "startup", Delivery(), now=NOW)
    inventory = {k: v for k, v in report.payload["inventory"].items() if k != "neighbours"}
    assert report.state_hash == state_hash(
        report.payload["host"], report.payload["findings"], inventory
    )


def test_a_changed_state_is_full() -> None:
    first = build_report(result(), "startup", Delivery(), now=NOW)
    changed = build_report(result(software="2.0"), "schedule", acknowledged(first.state_hash))
    assert changed.kind == FULL and changed.state_hash != first.state_hash


@pytest.mark.parametrize(("days_ago", "kind"), [(29.9, HEARTBEAT), (30, FULL), (45, FULL)])
def test_full_refresh_after_full_refresh_days(days_ago: float, kind: str) -> None:
    first = build_report(result(), "startup", Delivery(), now=NOW)
    delivery = acknowledged(first.state_hash, days_ago)
    assert build_report(result(), "schedule", delivery, now=NOW).kind == kind
    short = build_report(result(), "schedule", delivery, full_refresh_days=100, now=NOW)
    assert short.kind == HEARTBEAT


def test_need_full_clears_the_hash_and_forces_full() -> None:
    first = build_report(result(), "startup", Delivery(), now=NOW)
    asked = dataclasses.replace(acknowledged(first.state_hash), last_full_state_hash=None)
    assert build_report(result(), "schedule", asked, now=NOW).kind == FULL


def test_unknown_trigger_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown trigger"):
        build_report(result(), "whenever", Delivery(), now=NOW)


def test_encoded_report_is_a_verifiable_envelope() -> None:
    key = Ed25519PrivateKey.generate()
    report = build_report(result(), "manual", Delivery(), now=NOW)
    body = encode_report(report, key, HOST_ID, 17, NOW)
    envelope = decode_envelope(body)
    verify_envelope(envelope, raw_public(key))
    assert envelope.seq == 17 and envelope.payload_encoding == "gzip"
    assert json.loads(envelope.decoded_payload()) == report.payload


def test_an_oversized_full_report_gives_up_inventory_not_findings() -> None:
    key = Ed25519PrivateKey.generate()
    report = build_report(result(), "manual", Delivery(), now=NOW)
    whole = encode_report(report, key, HOST_ID, 1, NOW)
    body = encode_report(report, key, HOST_ID, 1, NOW, max_bytes=len(whole) - 1)
    payload = json.loads(decode_envelope(body).decoded_payload())
    validate_payload(payload)
    assert payload["inventory"]["software"] is None
    assert payload["errors"]["software"].startswith("omitted")
    assert payload["findings"] == report.payload["findings"]
    assert payload["state_hash"] == report.state_hash

"""The glossary names every code a report carries, in both languages, one way."""

from __future__ import annotations

from dataclasses import fields

import pytest

from agent import glossary
from agent.evaluation import Status
from agent.facts import AssetFields, InterfaceKind, ProbeOutcome, UsbClass
from agent.i18n import word
from agent.policy.model import Category, MediaMode, Severity
from agent.protocol.payload import TRIGGERS

TABLES = {
    name: value
    for name, value in vars(glossary).items()
    if name.isupper() and isinstance(value, dict) and not name.startswith("_")
}


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (glossary.SEVERITIES, [s.value for s in Severity]),
        (glossary.CATEGORIES, [c.value for c in Category]),
        (glossary.STATUSES, [s.value for s in Status]),
        (glossary.USB_CLASSES, [c.value for c in UsbClass]),
        (glossary.INTERFACE_KINDS, [k.value for k in InterfaceKind]),
        (glossary.PROBE_OUTCOMES, [o.value for o in ProbeOutcome]),
        (glossary.MEDIA_MODES, [m.value for m in MediaMode]),
        (glossary.REPORT_TRIGGERS, list(TRIGGERS)),
        (glossary.FIELDS, [f.name for f in fields(AssetFields)]),
    ],
    ids=[
        "severities",
        "categories",
        "statuses",
        "usb",
        "interfaces",
        "probes",
        "media",
        "triggers",
        "asset fields",
    ],
)
def test_every_code_the_agent_sends_has_words(table: glossary.Table, codes: list[str]) -> None:
    assert [code for code in codes if code not in table] == []


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_term_has_both_languages(name: str) -> None:
    for code, (zh, en) in TABLES[name].items():
        assert zh.strip() and en.strip(), (name, code)
        if name not in ("PLATFORMS", "ADDRESS_FAMILIES", "YES_NO") and code != "vpn":
            assert chinese(zh), (name, code, zh)


def test_the_agents_sheet_takes_its_field_labels_from_the_glossary() -> None:
    assert word("sheet.machine_number", "zh") == "机器编号"
    assert word("sheet.machine_number", "en") == glossary.FIELDS["machine_number"][1]
    for name in ("responsible_person", "department", "classification", "purpose"):
        assert word(f"sheet.{name}", "zh") == glossary.FIELDS[name][0]
    assert word("status.error", "zh") == "未能检查" and word("severity.critical", "zh") == "严重"


def test_a_code_it_does_not_know_is_shown_as_it_is() -> None:
    assert glossary.term(glossary.SEVERITIES, "catastrophic", "zh") == "catastrophic"
    assert glossary.term(glossary.PURPOSES, "", "zh") == ""


def test_purposes_and_classifications_are_found_by_their_words_too() -> None:
    assert glossary.term(glossary.PURPOSES, "intranet", "zh") == "内网"
    assert glossary.term(glossary.PURPOSES, "内网", "en") == "Intranet"
    assert glossary.term(glossary.PURPOSES, "Classified Intranet", "zh") == "涉密内网"
    assert glossary.term(glossary.CLASSIFICATIONS, "内部", "en") == "Internal"
    # the Law on Guarding State Secrets' own English: 机密 is "secret", 秘密 "confidential"
    assert glossary.term(glossary.CLASSIFICATIONS, "机密", "en") == "Secret"
    assert glossary.term(glossary.CLASSIFICATIONS, "confidential", "zh") == "秘密"


def test_evidence_values_are_words_where_they_are_codes() -> None:
    assert glossary.evidence_value("installed", False, "zh") == "未安装"
    assert glossary.evidence_value("running", None, "zh") == "无法判断"
    assert glossary.evidence_value("running", True, "en") == "running"
    assert glossary.evidence_value("registered", False, "zh") == "未登记"
    assert glossary.evidence_value("has_serial", True, "zh") == "是"
    assert glossary.evidence_value("class", "mass-storage", "zh") == "移动存储"
    assert glossary.evidence_value("kind", "wireless", "zh") == "无线网卡"
    assert glossary.evidence_value("kind", "https", "zh") is None  # a probe's protocol
    assert glossary.evidence_value("state", "present", "zh") == "存在即违规"
    assert glossary.evidence_value("source", "journal", "en") == "systemd journal"
    assert glossary.evidence_value("source", "dpkg", "zh") is None
    assert glossary.evidence_value("missing", "machine_number", "zh") == "机器编号"
    assert glossary.evidence_value("serial", "AA01", "zh") is None
    assert glossary.evidence_value("pid", 812, "zh") is None

"""The policy loader: YAML in, a typed Policy or every problem with its file:line out."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import PolicyError
from agent.policy.loader import (
    MAX_POLICY_BYTES,
    load_policy,
    load_policy_bytes,
    validate_policy_file,
)
from agent.policy.model import (
    InternetCheck,
    InternetMode,
    InternetRule,
    LocalText,
    MediaCheck,
    MediaMode,
    RequiredSoftwareRule,
    Schedule,
    Severity,
)
from agent.policy.yaml_positions import MAX_NODES, read_yaml
from agent.protocol.documents import policy_response
from agent.transport import MAX_ANSWER_BYTES

BROKEN = Path(__file__).parent / "fixtures" / "policies" / "broken"
RESPONDER_KEY = bytes(range(32))
KEY_BASE64 = base64.b64encode(RESPONDER_KEY).decode()

FULL_POLICY = f"""\
# yaml-language-server: $schema=policy.schema.json
id: round-trip
version: "2026.11"
title: {{zh: 往返测试, en: Round trip}}
description: {{zh: 说明, en: Description}}
schedule: {{interval: 2h, jitter: 90s}}
required_software:
  - id: audit-client
    severity: critical
    title: {{zh: 审计客户端, en: Audit client}}
    remedy: {{zh: 安装它, en: Install it}}
    platforms: [windows, linux]
    match: {{name: '^VRV', publisher: 北信源}}
    must_run:
      processes: ['^vrv']
      services: [vrvsvc]
      mode: all
  - id: endpoint-security
    severity: high
    title: {{zh: 终端安全, en: Endpoint security}}
    match:
      any:
        - {{name: 天擎}}
        - {{name: TianQing, version: '^10\\.'}}
forbidden_software:
  - id: no-remote-control
    severity: high
    title: {{zh: 禁止远程控制, en: No remote control}}
    processes: ['^TeamViewer']
removable_media:
  mode: registered_only
  registered:
    - {{vendor_id: "0x0781", product_id: "55AB", serial: " 4C53000123 ", note: 专用U盘}}
  rules:
    - {{id: usb-now, severity: high, title: {{zh: 当前, en: Now}}, check: storage_attached}}
    - id: usb-history
      severity: medium
      title: {{zh: 历史, en: History}}
      check: storage_history
      lookback: 7d
internet:
  mode: allowlist
  allowed_networks: [10.1.2.3/8, "fd00::/8"]
  rules:
    - id: no-internet
      severity: critical
      title: {{zh: 外联, en: Internet}}
      check: probes
      total_timeout: 20s
      probes:
        - id: web
          kind: https
          url: "https://www.example.com/"
          responder_key: "ed25519:{KEY_BASE64}"
          timeout: 5s
        - {{id: plain-key, kind: http, url: "http://192.0.2.1/", responder_key: "{KEY_BASE64}"}}
        - {{id: port, kind: tcp, host: 203.0.113.9, port: 443}}
        - {{id: port6, kind: tcp, host: "2001:db8::1", port: 853, responder_key: "{KEY_BASE64}"}}
        - {{id: name, kind: dns, name: www.example.com}}
        - {{id: name-at, kind: dns, name: www.example.com, server: 114.114.114.114}}
    - id: no-wireless
      severity: high
      title: {{zh: 无线, en: Wireless}}
      check: interfaces
      forbidden_kinds: [wireless, usb-tether]
      state: present
    - {{id: routes, severity: low, title: {{zh: 路由, en: Routes}}, check: default_routes, max: 2}}
asset:
  - id: asset-fields
    severity: low
    title: {{zh: 资产, en: Asset}}
    required_fields: [machine_number, purpose]
"""

MINIMAL_POLICY = """\
id: minimal
version: "1"
title: {zh: 最小, en: Minimal}
asset:
  - {id: asset-fields, severity: low, title: {zh: 资产, en: Asset}, required_fields: [purpose]}
"""


def problems_of(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(PolicyError) as caught:
        load_policy_bytes(data, "test.yaml")
    return [str(problem) for problem in caught.value.problems]


# --- a valid policy ---------------------------------------------------------------------


def test_it_reads_every_section_into_the_model() -> None:
    policy = load_policy_bytes(FULL_POLICY.encode(), "full.yaml")

    assert (policy.id, policy.version) == ("round-trip", "2026.11")
    assert policy.title == LocalText(zh="往返测试", en="Round trip")
    assert policy.description == LocalText(zh="说明", en="Description")
    assert policy.schedule == Schedule(interval_seconds=7200, jitter_seconds=90)
    assert [rule.id for rule in policy.all_rules()] == [
        "audit-client",
        "endpoint-security",
        "no-remote-control",
        "usb-now",
        "usb-history",
        "no-internet",
        "no-wireless",
        "routes",
        "asset-fields",
    ]


def test_a_single_matcher_becomes_a_one_tuple_of_case_insensitive_patterns() -> None:
    audit = load_policy_bytes(FULL_POLICY.encode(), "full.yaml").required_software[0]

    assert audit.severity is Severity.CRITICAL
    assert audit.remedy == LocalText(zh="安装它", en="Install it")
    assert audit.platforms == frozenset({"windows", "linux"})
    (matcher,) = audit.match
    assert matcher.name is not None and matcher.publisher is not None
    assert matcher.name.pattern == "^VRV"
    assert matcher.name.flags & re.IGNORECASE
    assert matcher.name.search("vrv 内网安全管理系统")
    assert matcher.publisher.search("北京北信源软件股份有限公司")
    assert matcher.version is None
    assert audit.must_run is not None
    assert [p.pattern for p in audit.must_run.processes] == ["^vrv"]
    assert audit.must_run.processes[0].search("VRVEDP_M.EXE")
    assert [p.pattern for p in audit.must_run.services] == ["vrvsvc"]
    assert audit.must_run.mode == "all"


def test_match_any_becomes_one_matcher_per_entry() -> None:
    security = load_policy_bytes(FULL_POLICY.encode(), "full.yaml").required_software[1]

    assert isinstance(security, RequiredSoftwareRule)
    first, second = security.match
    assert first.name is not None and first.name.pattern == "天擎"
    assert second.name is not None and second.name.pattern == "TianQing"
    assert second.version is not None and second.version.search("10.3.0")
    assert security.must_run is None
    assert security.platforms == frozenset()


def test_registered_devices_get_lowercase_four_digit_ids_and_a_trimmed_serial() -> None:
    media = load_policy_bytes(FULL_POLICY.encode(), "full.yaml").removable_media

    assert media is not None
    assert media.mode is MediaMode.REGISTERED_ONLY
    (device,) = media.registered
    assert (device.vendor_id, device.product_id, device.serial) == ("0781", "55ab", "4C53000123")
    assert device.note == "专用U盘"
    now, history = media.rules
    assert now.check is MediaCheck.STORAGE_ATTACHED
    assert history.check is MediaCheck.STORAGE_HISTORY
    assert history.lookback_seconds == 7 * 86400


def test_probes_become_targets_keys_and_seconds() -> None:
    internet = load_policy_bytes(FULL_POLICY.encode(), "full.yaml").internet

    assert internet is not None
    assert internet.mode is InternetMode.ALLOWLIST
    assert internet.allowed_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
    probes_rule = internet.rules[0]
    assert probes_rule.check is InternetCheck.PROBES
    assert probes_rule.total_timeout_seconds == 20.0
    targets = {probe.id: (probe.kind, probe.target) for probe in probes_rule.probes}
    assert targets == {
        "web": ("https", "https://www.example.com/"),
        "plain-key": ("http", "http://192.0.2.1/"),
        "port": ("tcp", "203.0.113.9:443"),
        "port6": ("tcp", "[2001:db8::1]:853"),
        "name": ("dns", "www.example.com"),
        "name-at": ("dns", "www.example.com@114.114.114.114"),
    }
    web, plain_key, port, port6 = probes_rule.probes[:4]
    assert web.responder_key == RESPONDER_KEY
    assert plain_key.responder_key == RESPONDER_KEY
    assert port6.responder_key == RESPONDER_KEY  # signed answers work over tcp too
    assert port.responder_key is None
    assert web.timeout_seconds == 5.0
    assert port.timeout_seconds == 3.0


def test_interface_and_route_rules_keep_their_settings() -> None:
    internet = load_policy_bytes(FULL_POLICY.encode(), "full.yaml").internet

    assert internet is not None
    _, interfaces, routes = internet.rules
    assert interfaces.check is InternetCheck.INTERFACES
    assert interfaces.forbidden_kinds == ("wireless", "usb-tether")
    assert interfaces.interface_state == "present"
    assert routes.check is InternetCheck.DEFAULT_ROUTES
    assert routes.max_default_routes == 2


def test_the_policy_carries_the_sha256_of_its_exact_bytes_and_its_source() -> None:
    data = FULL_POLICY.encode()

    policy = load_policy_bytes(data, "policies/full.yaml")

    assert policy.sha256 == hashlib.sha256(data).hexdigest()
    assert policy.source == "policies/full.yaml"


def test_keys_left_out_take_the_model_defaults() -> None:
    policy = load_policy_bytes(MINIMAL_POLICY.encode(), "minimal.yaml")

    assert policy.schedule == Schedule()
    assert policy.description == LocalText(zh="", en="")
    assert policy.removable_media is None
    assert policy.internet is None
    assert policy.asset[0].required_fields == ("purpose",)


def test_writing_the_documented_defaults_changes_nothing() -> None:
    rules = """\
id: defaults
version: "1"
title: {zh: 默认, en: Defaults}
internet:
  mode: forbidden
  rules:
    - id: probes
      severity: high
      title: {zh: 探测, en: Probes}
      check: probes
      probes: [{id: web, kind: https, url: "https://www.example.com/"%s}]%s
    - id: kinds
      severity: high
      title: {zh: 网卡, en: Kinds}
      check: interfaces
      forbidden_kinds: [wwan]%s
    - {id: routes, severity: high, title: {zh: 路由, en: Routes}, check: default_routes%s}
"""
    bare = rules % ("", "", "", "")
    spelt_out = rules % (
        ", timeout: 3s",
        "\n      total_timeout: 8s",
        "\n      state: up",
        ", max: 1",
    )

    implicit = load_policy_bytes(bare.encode(), "bare.yaml")
    explicit = load_policy_bytes(spelt_out.encode(), "explicit.yaml")

    assert implicit.internet == explicit.internet
    assert implicit.internet is not None
    assert implicit.internet.rules[0] == InternetRule(
        id="probes",
        severity=Severity.HIGH,
        title=LocalText(zh="探测", en="Probes"),
        check=InternetCheck.PROBES,
        probes=implicit.internet.rules[0].probes,
    )


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    policy = load_policy_bytes(b"\xef\xbb\xbf" + MINIMAL_POLICY.encode(), "bom.yaml")

    assert policy.id == "minimal"


def test_load_policy_reads_the_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "minimal.yaml"
    path.write_text(MINIMAL_POLICY, encoding="utf-8")

    policy = load_policy(path)

    assert policy.source == str(path)
    assert policy.sha256 == hashlib.sha256(MINIMAL_POLICY.encode()).hexdigest()


def test_validate_policy_file_finds_nothing_wrong_with_a_valid_policy(tmp_path: Path) -> None:
    path = tmp_path / "full.yaml"
    path.write_text(FULL_POLICY, encoding="utf-8")

    assert validate_policy_file(path) == []


# --- problems ---------------------------------------------------------------------------


def test_it_reports_every_problem_sorted_by_line_not_only_the_first() -> None:
    text = MINIMAL_POLICY.replace('version: "1"', "version: 1").replace(
        "severity: low", "severity: lo"
    )
    text = text.replace("id: minimal", "id: minimal\nextra: true")

    assert problems_of(text) == [
        "test.yaml:2: extra: unknown key 'extra'; allowed here: id, version, title, "
        "description, schedule, required_software, forbidden_software, removable_media, "
        "internet, asset",
        'test.yaml:3: version: expected text, found a number; put it in quotes: "1"',
        "test.yaml:6: asset[0].severity: 'lo' is not one of: info, low, medium, high, critical;"
        " did you mean 'low'?",
    ]


def test_the_error_message_lists_every_problem_on_its_own_line() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_bytes(b"id: x\nid: y\n", "twice.yaml")

    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert "twice.yaml:2: id: duplicate key 'id' (first at line 1)" in str(caught.value)


def test_a_bad_regex_is_found_even_next_to_a_schema_problem_in_the_same_rule() -> None:
    text = MINIMAL_POLICY.replace(
        "asset:",
        "forbidden_software:\n"
        "  - {id: tools, severity: hgh, title: {zh: 工具, en: Tools}, processes: ['(x']}\n"
        "asset:",
    )

    assert problems_of(text) == [
        "test.yaml:5: forbidden_software[0].processes[0]: invalid regular expression '(x': "
        "missing ), unterminated subpattern at position 0",
        "test.yaml:5: forbidden_software[0].severity: 'hgh' is not one of: info, low, medium, "
        "high, critical; did you mean 'high'?",
    ]


def test_an_empty_file_is_a_problem_on_line_one() -> None:
    assert problems_of(b"") == [
        "test.yaml:1: <document>: the file holds no policy: it is empty or only comments"
    ]


def test_an_unreadable_file_is_reported_without_a_line_and_without_raising(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.yaml"

    problems = validate_policy_file(missing)

    assert [(p.file, p.line, p.key, p.reason) for p in problems] == [
        (str(missing), 0, "", "cannot read the file: No such file or directory")
    ]
    assert problems[0].in_lang("zh").startswith(f"{missing}: <document>: 无法读取文件：")
    assert (
        str(problems[0])
        == f"{missing}: <document>: cannot read the file: No such file or directory"
    )


def test_a_character_yaml_forbids_is_reported_on_its_line() -> None:
    assert problems_of(MINIMAL_POLICY.replace("Minimal", "Mini\x07mal")) == [
        "test.yaml:3: <document>: character U+0007 is not allowed in YAML; remove it"
    ]


def test_merge_keys_are_refused_by_name() -> None:
    text = MINIMAL_POLICY + "schedule:\n  <<: {interval: 1h}\n"

    assert problems_of(text) == [
        "test.yaml:7: schedule: merge keys (<<) are not supported; write the keys out"
    ]


def test_an_alias_that_contains_itself_is_a_problem_not_a_hang() -> None:
    text = MINIMAL_POLICY + "schedule: &loop {interval: 1h, jitter: *loop}\n"

    assert (
        "test.yaml:6: schedule.jitter: an alias here refers back to a value that contains it"
        in (problems_of(text))
    )


def test_aliases_that_expand_beyond_the_node_limit_are_refused() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 7):
        levels.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    text = "\n".join(levels) + "\n"
    assert MAX_NODES < 10**6

    (problem,) = problems_of(text)

    assert "expands to more than 100000 values" in problem


def test_a_plain_value_that_only_looks_like_a_date_stays_text() -> None:
    text = MINIMAL_POLICY.replace('version: "1"', "version: 2026-13-45")

    assert load_policy_bytes(text.encode(), "test.yaml").version == "2026-13-45"


# --- the broken corpus ------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    line: int
    key: str
    reason: str  # a part of the English reason
    reason_zh: str | None  # a part of the Chinese one, where the loader has one


def expected_problems(path: Path) -> list[Expected]:
    """The header of a corpus file: `# expect: <line>: <key>: <reason substring>` per problem,
    each optionally followed by `# expect-zh: <substring of the Chinese reason>`."""
    expected: list[Expected] = []
    for raw_line in path.read_bytes().splitlines():
        line = raw_line.decode("utf-8")
        if line.startswith("# expect-zh: "):
            expected[-1] = replace(expected[-1], reason_zh=line.removeprefix("# expect-zh: "))
        elif line.startswith("# expect: "):
            number, key, reason = line.removeprefix("# expect: ").split(": ", 2)
            expected.append(Expected(int(number), key, reason, None))
        else:
            break
    return expected


BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))
YAML_MISTAKES = [path for path in BROKEN_FILES if path.stem.startswith("yaml-")]


def test_the_broken_corpus_covers_at_least_twenty_cases() -> None:
    assert len(BROKEN_FILES) >= 20
    assert all(expected_problems(path) for path in BROKEN_FILES)


def test_the_corpus_has_twenty_yaml_mistakes_each_explained_in_both_languages() -> None:
    assert len(YAML_MISTAKES) >= 20
    for path in YAML_MISTAKES:
        assert all(expected.reason_zh for expected in expected_problems(path)), path.name


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda path: path.stem)
def test_each_broken_policy_gives_exactly_its_expected_problems(path: Path) -> None:
    expected = expected_problems(path)

    problems = validate_policy_file(path)

    assert [(p.line, p.key or "<document>") for p in problems] == [
        (e.line, e.key) for e in expected
    ], "\n".join(map(str, problems))
    for problem, wanted in zip(problems, expected, strict=True):
        assert wanted.reason in problem.reason, str(problem)
        assert str(problem).startswith(f"{path}:{wanted.line}: {wanted.key}: ")
        if wanted.reason_zh is not None:
            in_chinese = problem.in_lang("zh")
            assert in_chinese.startswith(f"{path}:{wanted.line}: {wanted.key}: ")
            assert wanted.reason_zh in in_chinese, in_chinese
    with pytest.raises(PolicyError):
        load_policy(path)


def test_a_value_that_begins_with_an_ampersand_is_told_to_be_quoted() -> None:
    text = MINIMAL_POLICY.replace("title: {zh: 最小, en: Minimal}", "title: & Minimal")

    assert problems_of(text) == [
        "test.yaml:3: <document>: a value cannot begin with '&': put the whole value in quotes"
    ]


# --- YAML slips nobody listed: explained, never a crash -------------------------------------

OFFICE_TEXT = (Path(__file__).parent.parent / "policies" / "intranet-office.yaml").read_text(
    encoding="utf-8"
)
SLIP_CHARACTERS = " \t\n:'\"[]{}-#*&%|>@`,"


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(OFFICE_TEXT)),
            st.sampled_from(["insert", "delete", "replace"]),
            st.sampled_from(SLIP_CHARACTERS),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_a_yaml_slip_anywhere_is_explained_in_both_languages_at_a_line_of_the_file(
    edits: list[tuple[int, str, str]],
) -> None:
    text = OFFICE_TEXT
    for position, kind, character in edits:
        at = min(position, len(text))
        if kind == "insert":
            text = text[:at] + character + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + character + text[at + 1 :]

    line_count = text.count("\n") + 1
    try:
        document = read_yaml(text.encode("utf-8"), "slip.yaml")
    except PolicyError as exc:
        problems = list(exc.problems)
    else:
        problems = [finding.to_problem("slip.yaml") for finding in document.findings]
    for problem in problems:
        assert 1 <= problem.line <= line_count, problem
        assert problem.reason and problem.reason_zh, problem


# --- one size limit -----------------------------------------------------------------------


def test_a_policy_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    padded = MINIMAL_POLICY + "# 填充\n" * (MAX_POLICY_BYTES // 8)
    assert len(padded.encode()) > MAX_POLICY_BYTES

    assert problems_of(padded) == [
        f"test.yaml: <document>: the file is {len(padded.encode())} bytes; "
        f"a policy is at most {MAX_POLICY_BYTES // 1024} KiB"
    ]


def test_a_policy_at_the_size_limit_fits_in_the_answer_an_agent_accepts() -> None:
    """The largest policy, as the server sends it (JSON escapes every CJK character to six
    bytes), stays under the agent's cap on an answer: an agent never refuses a policy the
    server stored."""
    comment = "# " + "策" * 40 + "\n"
    text = MINIMAL_POLICY + comment * (
        (MAX_POLICY_BYTES - len(MINIMAL_POLICY)) // len(comment.encode())
    )
    assert MAX_POLICY_BYTES - 200 < len(text.encode()) <= MAX_POLICY_BYTES
    load_policy_bytes(text.encode(), "big.yaml")

    now = dt.datetime.now(dt.timezone.utc)
    answer = policy_response(
        Ed25519PrivateKey.generate(), "h_" + "0" * 32, "minimal", "1", text, now
    )

    assert len(json.dumps(answer).encode()) < MAX_ANSWER_BYTES

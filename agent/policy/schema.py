"""The policy language as a JSON Schema (Draft 2020-12), and how its violations read.

One schema serves two readers. Editors (the VS Code YAML extension, through the
`# yaml-language-server: $schema=policy.schema.json` comment) show its titles, descriptions
and examples as help and completion, and flag mistakes while an admin types. The loader
validates with `jsonschema` before the checks a schema cannot express (regexes compile, ids
are unique, networks parse). The VS Code language service shows `errorMessage` and
`patternErrorMessage` (keywords that validators ignore); the loader reads the same texts, so a
mistake is described in the same words wherever it is caught.

Check-specific keys are refused with if/then branches whose message names the key and the
check it belongs to, instead of a oneOf over every rule shape that could only say "does not
match any of the given schemas".

`python -m agent.policy.schema` prints the schema; `policies/policy.schema.json` is its output.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonschema

from agent.facts import AssetFields, InterfaceKind
from agent.policy.durations import DURATION_EXAMPLES, DURATION_PATTERN
from agent.policy.model import InternetCheck, InternetMode, MediaCheck, MediaMode, Severity
from agent.policy.yaml_positions import Finding, Path, YamlDocument, kind_of

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
PLATFORMS = ("windows", "linux", "macos")
PROBE_KINDS = ("http", "https", "tcp", "dns")
ASSET_FIELDS = tuple(field.name for field in dataclasses.fields(AssetFields))
SECTIONS = ("required_software", "forbidden_software", "removable_media", "internet", "asset")

_ID_MESSAGE = (
    "must start with a lowercase letter or digit and hold only a-z, 0-9, '.', '_', '-' "
    "(at most 64 characters)"
)
_DURATION_MESSAGE = "must be a whole number and one unit: s, m, h or d (e.g. 30s, 5m, 1h, 30d)"
_HEX_ID_PATTERN = r"^(0[xX])?[0-9A-Fa-f]{4}$"


def policy_schema() -> dict[str, Any]:
    """The whole schema as plain JSON data (a fresh copy: callers may change it)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Custos policy (合规检查策略)",
        "description": (
            "One compliance policy for office computers: which software must be installed and "
            "running, what is forbidden, how removable media (移动存储介质) and internet "
            "access (违规外联) are checked, and which asset fields (资产登记) must be filled in."
        ),
        "type": "object",
        "properties": {
            "id": {
                "$ref": "#/$defs/id",
                "title": "Policy id (策略标识)",
                "description": "Short stable name of the policy; reports and exports quote it.",
                "examples": ["intranet-office", "internet-cafe"],
            },
            "version": {
                "type": "string",
                "minLength": 1,
                "title": "Policy version (策略版本)",
                "description": (
                    "Version text shown next to every result in reports and exports. Quote it: "
                    'a bare 2026.10 is a number in YAML and would read as "2026.1".'
                ),
                "examples": ["2026.11", "2026-11-01"],
            },
            "title": _local_text_ref(
                "Policy title (策略名称)",
                "What the policy is for, in Chinese and English.",
                {"zh": "涉密内网办公终端基线", "en": "Intranet office PC baseline"},
            ),
            "description": _local_text_ref(
                "Policy description (策略说明)",
                "Longer explanation for the people who run and audit the checks.",
                {"zh": "适用于不得连接互联网的内网办公计算机。", "en": "For offline PCs."},
            ),
            "schedule": _schedule_schema(),
            "required_software": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/requiredSoftwareRule"},
                "title": "Required software (必装软件)",
                "description": (
                    "Software that must be installed and, with must_run, actually running "
                    "(audit, confidentiality-check and terminal-registration clients)."
                ),
            },
            "forbidden_software": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/forbiddenSoftwareRule"},
                "title": "Forbidden software (禁装软件)",
                "description": (
                    "Software with no place on the machine: remote control, proxies and tools "
                    "that bypass auditing, games, stock trading. Matched against installed "
                    "packages and running processes."
                ),
            },
            "removable_media": _removable_media_schema(),
            "internet": _internet_schema(),
            "asset": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/assetRule"},
                "title": "Asset registration (资产登记)",
                "description": "Check-sheet fields that must be filled in for every machine.",
            },
        },
        "required": ["id", "version", "title"],
        "additionalProperties": False,
        "allOf": [
            {
                "anyOf": [{"required": [section]} for section in SECTIONS],
                "errorMessage": f"a policy needs at least one of: {', '.join(SECTIONS)}",
            }
        ],
        "$defs": _definitions(),
    }


# --- building blocks --------------------------------------------------------------------


def _definitions() -> dict[str, Any]:
    return {
        "id": {
            "type": "string",
            "pattern": ID_PATTERN,
            "patternErrorMessage": _ID_MESSAGE,
            "title": "Identifier (标识)",
            "description": "Lowercase letters, digits, '.', '_' and '-'; at most 64 characters.",
        },
        "localText": {
            "type": "object",
            "title": "Text in two languages (中英文文本)",
            "description": "The same text in Chinese (zh) and English (en); both are required.",
            "properties": {
                "zh": {
                    "type": "string",
                    "pattern": r"\S",
                    "patternErrorMessage": "must not be blank",
                    "title": "Chinese (中文)",
                    "description": "The text in Chinese.",
                    "examples": ["未安装终端审计客户端"],
                },
                "en": {
                    "type": "string",
                    "pattern": r"\S",
                    "patternErrorMessage": "must not be blank",
                    "title": "English (英文)",
                    "description": "The text in English.",
                    "examples": ["Terminal audit client is not installed"],
                },
            },
            "required": ["zh", "en"],
            "additionalProperties": False,
        },
        "duration": {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "patternErrorMessage": _DURATION_MESSAGE,
            "title": "Duration (时长)",
            "description": "A whole number and one unit: s, m, h or d.",
            "examples": list(DURATION_EXAMPLES),
        },
        "regex": {
            "type": "string",
            "minLength": 1,
            "title": "Regular expression (正则表达式)",
            "description": (
                "Python regular expression, searched anywhere in the text and case-insensitive "
                "(use ^ and $ to anchor). Quote it in YAML when it has special characters."
            ),
            "examples": ["^Steam$", "TeamViewer", "奇安信|天擎"],
        },
        "regexList": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/regex"},
            "title": "Regular expressions (正则表达式列表)",
            "description": "Each entry is a case-insensitive Python regex.",
        },
        "softwareMatcher": _software_matcher_schema(),
        "softwareMatch": _software_match_schema(),
        "requiredSoftwareRule": _required_software_rule_schema(),
        "forbiddenSoftwareRule": _forbidden_software_rule_schema(),
        "registeredDevice": _registered_device_schema(),
        "mediaRule": _media_rule_schema(),
        "probe": _probe_schema(),
        "internetRule": _internet_rule_schema(),
        "assetRule": _asset_rule_schema(),
    }


def _local_text_ref(title: str, description: str, example: Mapping[str, str]) -> dict[str, Any]:
    return {
        "$ref": "#/$defs/localText",
        "title": title,
        "description": description,
        "examples": [dict(example)],
    }


def _regex_list(title: str, description: str, examples: Sequence[str]) -> dict[str, Any]:
    return {
        "$ref": "#/$defs/regexList",
        "title": title,
        "description": description,
        "examples": [list(examples)],
    }


def _rule_properties(example_id: str) -> dict[str, Any]:
    """The keys every rule has, whatever it checks."""
    return {
        "id": {
            "$ref": "#/$defs/id",
            "title": "Rule id (规则标识)",
            "description": (
                "Names the rule in findings, dashboards and exports; unique across the whole "
                "policy."
            ),
            "examples": [example_id],
        },
        "severity": {
            "enum": [severity.value for severity in Severity],
            "title": "Severity (严重程度)",
            "description": "How serious a failure is: info, low, medium, high or critical.",
            "examples": ["high"],
        },
        "title": _local_text_ref(
            "Rule title (规则名称)",
            "What the rule checks, as people read it in the check sheet.",
            {
                "zh": "终端审计客户端已安装并运行",
                "en": "Terminal audit client installed and running",
            },
        ),
        "remedy": _local_text_ref(
            "Remedy (整改措施)",
            "What the user or admin should do when the rule fails.",
            {"zh": "联系信息中心重新安装客户端。", "en": "Ask the IT office to reinstall it."},
        ),
        "platforms": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": list(PLATFORMS)},
            "title": "Platforms (适用平台)",
            "description": (
                "Operating systems the rule applies to; elsewhere it is not_applicable. "
                "Leave it out for every platform."
            ),
            "examples": [["windows", "linux"]],
        },
    }


_RULE_REQUIRED = ["id", "severity", "title"]


def _rule(
    title: str,
    description: str,
    properties: Mapping[str, Any],
    required: Sequence[str],
    example: Mapping[str, Any],
    conditions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "title": title,
        "description": description,
        "properties": {**_rule_properties(str(example["id"])), **properties},
        "required": [*_RULE_REQUIRED, *required],
        "additionalProperties": False,
        "examples": [dict(example)],
    }
    if conditions:
        schema["allOf"] = [dict(condition) for condition in conditions]
    return schema


def _keys_by_selector(
    selector: str,
    values: Iterable[str],
    owners: Mapping[str, Sequence[str]],
    needs: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """if/then branches: for each value of `selector`, the keys it needs and the keys it refuses.

    `owners` maps each selector-specific key to the values it belongs to; a key used with any
    other value is refused with a message that names where it belongs.
    """
    branches = []
    for value in values:
        then: dict[str, Any] = {}
        refused = {
            key: {
                "not": {},
                "errorMessage": (
                    f"'{key}' does not apply when {selector} is {value}; it belongs to "
                    f"{selector}: {' or '.join(owned_by)}"
                ),
            }
            for key, owned_by in owners.items()
            if value not in owned_by
        }
        if refused:
            then["properties"] = refused
        if needs.get(value):
            keys = " and ".join(f"'{key}'" for key in needs[value])
            verb = "is" if len(needs[value]) == 1 else "are"
            then["required"] = list(needs[value])
            then["errorMessage"] = f"{keys} {verb} required when {selector} is {value}"
        if then:
            condition = {"properties": {selector: {"const": value}}, "required": [selector]}
            branches.append({"if": condition, "then": then})
    return branches


# --- schedule ---------------------------------------------------------------------------


def _schedule_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Schedule (检查周期)",
        "description": "How often the agent checks; the jitter spreads checks of many machines.",
        "properties": {
            "interval": {
                "$ref": "#/$defs/duration",
                "title": "Interval (检查间隔)",
                "description": "Time between two checks; at least 1m.",
                "default": "1h",
                "examples": ["1h", "30m"],
            },
            "jitter": {
                "$ref": "#/$defs/duration",
                "title": "Jitter (随机延迟)",
                "description": (
                    "Up to this much random delay per check, so that a whole unit does not "
                    "report at the same second; shorter than the interval."
                ),
                "default": "5m",
                "examples": ["5m"],
            },
        },
        "additionalProperties": False,
        "examples": [{"interval": "1h", "jitter": "5m"}],
    }


# --- software ---------------------------------------------------------------------------

_MATCHER_KEYS = {
    "name": ("Name (软件名称)", "Regex on the installed package's display name.", "VRV|北信源"),
    "publisher": (
        "Publisher (发行商)",
        "Regex on the package's publisher or vendor.",
        "北京北信源软件股份有限公司",
    ),
    "version": ("Version (版本)", "Regex on the package version.", r"^(9|10)\."),
}


def _matcher_properties() -> dict[str, Any]:
    return {
        key: {"$ref": "#/$defs/regex", "title": title, "description": text, "examples": [example]}
        for key, (title, text, example) in _MATCHER_KEYS.items()
    }


def _match_ref(effect: str) -> dict[str, Any]:
    return {
        "$ref": "#/$defs/softwareMatch",
        "title": "Match (软件匹配)",
        "description": f"{effect} Regexes on the package's name, publisher and version.",
    }


def _software_matcher_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Software matcher (软件匹配条件)",
        "description": "Matches an installed package when all of the given regexes match.",
        "properties": _matcher_properties(),
        "minProperties": 1,
        "additionalProperties": False,
        "examples": [{"name": "天擎", "publisher": "奇安信"}],
    }


def _software_match_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Match (匹配)",
        "description": (
            "One matcher (name / publisher / version regexes, all must match), or 'any': a "
            "list of matchers of which one is enough."
        ),
        "properties": {
            **_matcher_properties(),
            "any": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/softwareMatcher"},
                "title": "Any of (任一匹配)",
                "description": "Several matchers; the package matches when one of them does.",
                "examples": [[{"name": "北信源"}, {"name": "VRV", "publisher": "VRV"}]],
            },
        },
        "minProperties": 1,
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"required": ["any"]},
                "then": {
                    "properties": {
                        key: {
                            "not": {},
                            "errorMessage": (
                                f"'{key}' cannot stand next to 'any'; put it inside one of "
                                "the 'any' matchers"
                            ),
                        }
                        for key in _MATCHER_KEYS
                    }
                },
            }
        ],
        "examples": [{"name": "北信源|VRV"}, {"any": [{"name": "天擎"}, {"name": "TianQing"}]}],
    }


def _required_software_rule_schema() -> dict[str, Any]:
    must_run = {
        "type": "object",
        "title": "Must run (必须运行)",
        "description": (
            "Processes and services that show the software is actually running, not only "
            "installed (usage rate, 使用率)."
        ),
        "properties": {
            "processes": _regex_list(
                "Processes (进程)", "Regexes on running process names.", ["^vrv", "edpagent"]
            ),
            "services": _regex_list(
                "Services (服务)",
                "Regexes on the names of running services (Windows services, systemd units).",
                ["VRV.*Service"],
            ),
            "mode": {
                "enum": ["any", "all"],
                "default": "any",
                "title": "Mode (判定方式)",
                "description": (
                    "any: one running process or service matching any regex is enough; "
                    "all: every regex must match something running."
                ),
            },
        },
        "additionalProperties": False,
        "allOf": [
            {
                "anyOf": [{"required": ["processes"]}, {"required": ["services"]}],
                "errorMessage": "must_run needs 'processes', 'services' or both",
            }
        ],
        "examples": [{"processes": ["^vrv"], "services": ["VRV"], "mode": "any"}],
    }
    return _rule(
        "Required software rule (必装软件规则)",
        "Fails when no installed package matches, or when must_run finds nothing running.",
        {"match": _match_ref("Installed when a package matches."), "must_run": must_run},
        ["match"],
        {
            "id": "audit-client",
            "severity": "high",
            "title": {"zh": "终端审计客户端", "en": "Terminal audit client"},
            "match": {"name": "北信源|VRV"},
            "must_run": {"processes": ["^vrv"]},
        },
    )


def _forbidden_software_rule_schema() -> dict[str, Any]:
    return _rule(
        "Forbidden software rule (禁装软件规则)",
        "Fails when an installed package matches, or when a matching process is running.",
        {
            "match": _match_ref("A violation when an installed package matches."),
            "processes": _regex_list(
                "Processes (进程)",
                "Regexes on running process names: portable tools are never installed.",
                ["^TeamViewer", "^AnyDesk"],
            ),
        },
        [],
        {
            "id": "no-remote-control",
            "severity": "high",
            "title": {"zh": "禁止远程控制软件", "en": "No remote-control tools"},
            "match": {"name": "TeamViewer|AnyDesk|向日葵|ToDesk"},
            "processes": ["^TeamViewer", "^AnyDesk"],
        },
        [
            {
                "anyOf": [{"required": ["match"]}, {"required": ["processes"]}],
                "errorMessage": "a forbidden-software rule needs 'match', 'processes' or both",
            }
        ],
    )


# --- removable media --------------------------------------------------------------------


def _registered_device_schema() -> dict[str, Any]:
    hex_id = {
        "type": "string",
        "pattern": _HEX_ID_PATTERN,
        "patternErrorMessage": 'must be four hex digits, e.g. "0781" (quote it in YAML)',
    }
    return {
        "type": "object",
        "title": "Registered device (登记的专用U盘)",
        "description": (
            "A unit-issued removable storage device, matched by vendor id + product id + "
            "serial number. Devices without a serial number cannot be registered."
        ),
        "properties": {
            "vendor_id": {
                **hex_id,
                "title": "Vendor id (厂商ID, VID)",
                "description": "USB vendor id, four hex digits; quote it in YAML.",
                "examples": ["0781"],
            },
            "product_id": {
                **hex_id,
                "title": "Product id (产品ID, PID)",
                "description": "USB product id, four hex digits; quote it in YAML.",
                "examples": ["5567"],
            },
            "serial": {
                "type": "string",
                "pattern": r"\S",
                "patternErrorMessage": "must not be blank",
                "title": "Serial number (序列号)",
                "description": "The device's USB serial number, exactly as the OS reports it.",
                "examples": ["4C530001230521112345"],
            },
            "note": {
                "type": "string",
                "title": "Note (备注)",
                "description": "Who holds the device, its asset tag: for people, not matched.",
                "examples": ["办公室 张三 专用U盘 ZC-2026-001"],
            },
        },
        "required": ["vendor_id", "product_id", "serial"],
        "additionalProperties": False,
        "examples": [
            {
                "vendor_id": "0781",
                "product_id": "5567",
                "serial": "4C530001230521112345",
                "note": "办公室专用U盘 No.1",
            }
        ],
    }


def _media_rule_schema() -> dict[str, Any]:
    checks = [check.value for check in MediaCheck]
    return _rule(
        "Removable media rule (移动存储介质规则)",
        (
            "storage_attached: removable storage attached now; storage_history: storage seen in "
            "the OS's history within lookback; phones: phones or cameras (MTP/PTP) attached."
        ),
        {
            "check": {
                "enum": checks,
                "title": "Check (检查项)",
                "description": (
                    "storage_attached (当前接入), storage_history (历史接入记录), "
                    "phones (手机/相机接入)."
                ),
            },
            "lookback": {
                "$ref": "#/$defs/duration",
                "title": "Lookback (追溯时长)",
                "description": "How far back history counts. Only with check: storage_history.",
                "default": "30d",
                "examples": ["30d", "180d"],
            },
        },
        ["check"],
        {
            "id": "usb-history",
            "severity": "medium",
            "title": {
                "zh": "30天内未接入未登记U盘",
                "en": "No unregistered USB storage in 30 days",
            },
            "check": "storage_history",
            "lookback": "30d",
        },
        _keys_by_selector("check", checks, {"lookback": ["storage_history"]}, {}),
    )


def _removable_media_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Removable media (移动存储介质)",
        "description": "USB storage and phones connected to the machine, now and in history.",
        "properties": {
            "mode": {
                "enum": [mode.value for mode in MediaMode],
                "title": "Mode (管控方式)",
                "description": (
                    "forbid: no removable storage at all (禁止); registered_only: only the "
                    "registered devices (仅限专用U盘); allow: any storage (允许)."
                ),
                "examples": ["registered_only"],
            },
            "registered": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/registeredDevice"},
                "title": "Registered devices (专用U盘登记表)",
                "description": "The unit's registered devices; required with registered_only.",
            },
            "rules": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/mediaRule"},
                "title": "Rules (规则)",
                "description": "What to check about removable media.",
            },
        },
        "required": ["mode", "rules"],
        "additionalProperties": False,
        "allOf": _keys_by_selector(
            "mode", ["registered_only"], {}, {"registered_only": ["registered"]}
        ),
    }


# --- internet ---------------------------------------------------------------------------

_INTERNET_CHECK_OWNERS: Mapping[str, Sequence[str]] = {
    "probes": ["probes"],
    "total_timeout": ["probes"],
    "forbidden_kinds": ["interfaces"],
    "state": ["interfaces"],
    "max": ["default_routes"],
}
_PROBE_KIND_OWNERS: Mapping[str, Sequence[str]] = {
    "url": ["http", "https"],
    "host": ["tcp"],
    "port": ["tcp"],
    "name": ["dns"],
    "server": ["dns"],
}


def _probe_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Probe (外联探测)",
        "description": (
            "An external endpoint the agent tries to reach. On a machine that must stay "
            "offline, reaching it is a violation (违规外联)."
        ),
        "properties": {
            "id": {
                "$ref": "#/$defs/id",
                "title": "Probe id (探测标识)",
                "description": "Names the probe in evidence; unique among the policy's probes.",
                "examples": ["public-https"],
            },
            "kind": {
                "enum": list(PROBE_KINDS),
                "title": "Kind (探测方式)",
                "description": (
                    "http/https: fetch url; tcp: connect to host:port; dns: resolve name."
                ),
            },
            "url": {
                "type": "string",
                "title": "URL (地址)",
                "description": "For http and https probes; its scheme must match the kind.",
                "examples": ["https://www.baidu.com/"],
            },
            "responder_key": {
                "type": "string",
                "title": "Responder key (应答方公钥)",
                "description": (
                    "Ed25519 public key of a Custos responder, as 'ed25519:<base64>' or plain "
                    "base64 of 32 bytes, for any kind of probe. The probe then only counts when "
                    "the answer is signed over the agent's nonce, so a captive portal cannot "
                    "pass for the internet. The example is the RFC 8032 test key: put your "
                    "responder's own key here."
                ),
                "examples": ["ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="],
            },
            "host": {
                "type": "string",
                "minLength": 1,
                "title": "Host (主机)",
                "description": "For tcp probes: IP address or DNS name to connect to.",
                "examples": ["114.114.114.114"],
            },
            "port": {
                "type": "integer",
                "minimum": 1,
                "maximum": 65535,
                "title": "Port (端口)",
                "description": "For tcp probes: the TCP port.",
                "examples": [53, 443],
            },
            "name": {
                "type": "string",
                "minLength": 1,
                "title": "Name (域名)",
                "description": "For dns probes: the DNS name to resolve.",
                "examples": ["www.baidu.com"],
            },
            "server": {
                "type": "string",
                "minLength": 1,
                "title": "DNS server (DNS服务器)",
                "description": (
                    "For dns probes: ask this server (an IP address) directly instead of the "
                    "system resolver."
                ),
                "examples": ["114.114.114.114"],
            },
            "timeout": {
                "$ref": "#/$defs/duration",
                "title": "Timeout (超时)",
                "description": "How long to wait for this probe.",
                "default": "3s",
                "examples": ["3s"],
            },
        },
        "required": ["id", "kind"],
        "additionalProperties": False,
        "allOf": _keys_by_selector(
            "kind",
            PROBE_KINDS,
            _PROBE_KIND_OWNERS,
            {"http": ["url"], "https": ["url"], "tcp": ["host", "port"], "dns": ["name"]},
        ),
        "examples": [
            {"id": "public-https", "kind": "https", "url": "https://www.baidu.com/"},
            {"id": "public-dns-tcp", "kind": "tcp", "host": "114.114.114.114", "port": 53},
            {"id": "public-name", "kind": "dns", "name": "www.qq.com", "server": "223.5.5.5"},
        ],
    }


def _internet_rule_schema() -> dict[str, Any]:
    checks = [check.value for check in InternetCheck]
    return _rule(
        "Internet rule (外联检查规则)",
        (
            "probes: no probe may succeed; interfaces: no interface of a forbidden kind; "
            "default_routes: at most max default routes, gateways in allowed networks; "
            "connections: no connection to an address outside allowed networks; dns: every "
            "DNS server inside allowed networks."
        ),
        {
            "check": {
                "enum": checks,
                "title": "Check (检查项)",
                "description": (
                    "probes (主动探测), interfaces (网卡类型), default_routes (默认路由), "
                    "connections (外部连接), dns (DNS服务器)."
                ),
            },
            "probes": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/probe"},
                "title": "Probes (探测点)",
                "description": "Endpoints to try. Only with check: probes.",
            },
            "total_timeout": {
                "$ref": "#/$defs/duration",
                "title": "Total timeout (总超时)",
                "description": "Upper bound for all probes together. Only with check: probes.",
                "default": "8s",
                "examples": ["8s"],
            },
            "forbidden_kinds": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": [kind.value for kind in InterfaceKind]},
                "title": "Forbidden interface kinds (禁止的网卡类型)",
                "description": (
                    "wireless (无线网卡), wwan (4G/5G上网卡), usb-tether (手机USB共享网络), "
                    "... Only with check: interfaces."
                ),
                "examples": [["wireless", "wwan", "usb-tether"]],
            },
            "state": {
                "enum": ["up", "present"],
                "default": "up",
                "title": "State (状态)",
                "description": (
                    "up: only interfaces that are up count; present: having one at all counts. "
                    "Only with check: interfaces."
                ),
            },
            "max": {
                "type": "integer",
                "minimum": 0,
                "default": 1,
                "title": "Maximum default routes (默认路由上限)",
                "description": "More default routes than this is a second path out. Only with "
                "check: default_routes.",
                "examples": [1],
            },
        },
        ["check"],
        {
            "id": "no-wireless",
            "severity": "high",
            "title": {"zh": "禁止无线网卡和手机共享网络", "en": "No wireless or tethering"},
            "check": "interfaces",
            "forbidden_kinds": ["wireless", "wwan", "usb-tether"],
        },
        _keys_by_selector(
            "check",
            checks,
            _INTERNET_CHECK_OWNERS,
            {"probes": ["probes"], "interfaces": ["forbidden_kinds"]},
        ),
    )


def _internet_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Internet access (互联网访问)",
        "description": "Whether and how the machine may reach the internet, and how to check.",
        "properties": {
            "mode": {
                "enum": [mode.value for mode in InternetMode],
                "title": "Mode (外联策略)",
                "description": (
                    "forbidden: no internet at all (禁止外联); allowlist: only the allowed "
                    "networks (白名单); allowed: internet permitted (允许)."
                ),
                "examples": ["forbidden"],
            },
            "allowed_networks": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
                "title": "Allowed networks (允许的网段)",
                "description": (
                    "CIDR networks that gateways, DNS servers and connections may use; required "
                    "with mode allowlist."
                ),
                "examples": [["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]],
            },
            "rules": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/internetRule"},
                "title": "Rules (规则)",
                "description": "What to check about network paths out of the machine.",
            },
        },
        "required": ["mode", "rules"],
        "additionalProperties": False,
        "allOf": _keys_by_selector("mode", ["allowlist"], {}, {"allowlist": ["allowed_networks"]}),
    }


# --- asset ------------------------------------------------------------------------------


def _asset_rule_schema() -> dict[str, Any]:
    return _rule(
        "Asset rule (资产登记规则)",
        "Fails when one of the required asset fields is empty in the agent's configuration.",
        {
            "required_fields": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": list(ASSET_FIELDS)},
                "title": "Required fields (必填项)",
                "description": (
                    "machine_number (机器编号), responsible_person (责任人), department (部门), "
                    "classification (密级), purpose (用途)."
                ),
                "examples": [list(ASSET_FIELDS)],
            }
        },
        ["required_fields"],
        {
            "id": "asset-registered",
            "severity": "medium",
            "title": {"zh": "资产信息已登记", "en": "Asset fields filled in"},
            "required_fields": list(ASSET_FIELDS),
        },
    )


# --- reading violations -----------------------------------------------------------------


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(policy_schema())


def schema_findings(document: YamlDocument) -> list[Finding]:
    """Every schema violation in the document, each at its key's line, in plain words."""
    findings: dict[Finding, None] = {}  # a dict keeps the order and drops repeats
    for error in _validator().iter_errors(document.data):
        for finding in _describe(error, document):
            findings[finding] = None
    return list(findings)


def _describe(error: jsonschema.ValidationError, document: YamlDocument) -> list[Finding]:
    path: Path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value: Any = error.instance
    limit: Any = error.validator_value
    line = document.line_of(path)
    if error.validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        return [
            Finding((*path, key), document.line_of((*path, key)), _unknown_key(key, allowed))
            for key in value
            if key not in allowed
        ]
    if error.validator == "required":
        custom = schema.get("errorMessage")
        return [
            Finding((*path, name), line, custom or f"missing required key '{name}'")
            for name in limit
            if name not in value
        ]
    if isinstance(schema.get("errorMessage"), str):
        return [Finding(path, line, schema["errorMessage"])]
    raw = document.raw_scalars.get(path)
    return [Finding(path, line, _reason(str(error.validator), value, limit, schema, raw, error))]


def _reason(
    validator: str,
    value: Any,
    limit: Any,
    schema: Mapping[str, Any],
    raw: str | None,
    error: jsonschema.ValidationError,
) -> str:
    if validator == "type":
        return _type_reason(limit, value, schema, raw)
    if validator == "enum":
        return _enum_reason(value, [str(option) for option in limit], raw)
    if validator == "pattern":
        message = schema.get("patternErrorMessage", f"must match {limit}")
        return f"{message} (got '{value}')"
    if validator in ("minItems", "minProperties", "minLength") and limit == 1:
        keys = ", ".join(schema.get("properties", {}))
        return (
            f"must not be empty: give at least one of {keys}"
            if validator == "minProperties"
            else "must not be empty"
        )
    if validator == "uniqueItems":
        repeated = next(item for index, item in enumerate(value) if item in value[:index])
        return f"lists '{repeated}' more than once"
    if validator == "minimum":
        return f"must be at least {limit} (got {value})"
    if validator == "maximum":
        return f"must be at most {limit} (got {value})"
    return str(error.message)


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing",
}


def _type_reason(expected: Any, value: Any, schema: Mapping[str, Any], raw: str | None) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in names)
    if "object" in names:
        keys = schema.get("required") or list(schema.get("properties", {}))
        if keys:
            wanted += f" with {', '.join(keys)}"
    reason = f"expected {wanted}, found {kind_of(value)}"
    if "string" in names and raw is not None:
        reason += f'; put it in quotes: "{raw}"'
    elif "array" in names and isinstance(value, (str, int, float)):
        reason += f"; write a list, e.g. [{raw if raw is not None else value}]"
    return reason


def _enum_reason(value: Any, options: Sequence[str], raw: str | None) -> str:
    if value is None:
        return f"the value is empty; expected one of: {', '.join(options)}"
    shown = raw if raw is not None else str(value)
    reason = f"'{shown}' is not one of: {', '.join(options)}"
    close = difflib.get_close_matches(shown, options, n=1)
    return f"{reason}; did you mean '{close[0]}'?" if close else reason


def _unknown_key(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    return f"unknown key '{key}'; allowed here: {', '.join(allowed)}"


def main() -> None:
    """Print the schema; `policies/policy.schema.json` is this output, kept in the repository."""
    text = json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))  # the same bytes whatever the console uses


if __name__ == "__main__":
    main()

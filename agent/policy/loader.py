"""Turn policy YAML into a validated `Policy`, or into every problem with its file:line.

Three passes, each reporting all it finds instead of stopping at the first:

1. YAML (`yaml_positions`): syntax, a single document, duplicate keys, plain values only.
2. Structure (`schema`): the JSON Schema that editors use too; unknown keys, types, enums,
   missing keys, empty lists, keys that belong to another kind of check.
3. Meaning (here): what a schema cannot say. Regexes compile and cannot backtrack
   catastrophically, rule ids and probe ids are unique, networks, hosts, URLs and responder
   keys parse, durations are in range.

Pass 3 skips every part where pass 1 or 2 found a problem, so it never trips over a value of
the wrong type, yet still reports on the rest of the file. When a check in pass 3 fails it
records the problem and hands back a stand-in value of the right type so the pass can go on;
no `Policy` is ever returned once anything was recorded, so stand-ins never escape.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import regex

from agent import i18n
from agent.errors import PolicyError, PolicyProblem
from agent.i18n import LocalText
from agent.platforms.usb_classes import normalise_hex_id
from agent.policy import yaml_positions
from agent.policy.backtracking import catastrophic_backtracking
from agent.policy.durations import format_duration, parse_duration
from agent.policy.model import (
    AssetRule,
    ForbiddenSoftwareRule,
    InternetCheck,
    InternetMode,
    InternetRule,
    InternetSection,
    IpNetwork,
    MediaCheck,
    MediaMode,
    MediaRule,
    MediaSection,
    Policy,
    ProbeSpec,
    RegisteredDevice,
    RequiredSoftwareRule,
    RunRequirement,
    Schedule,
    Severity,
    SoftwareMatcher,
)
from agent.policy.patterns import Pattern
from agent.policy.schema import policy_schema, schema_findings
from agent.policy.yaml_positions import Finding, YamlDocument, local_kind_of, problem, read_yaml
from agent.probes.keytext import decode_public_key

__all__ = [
    "MAX_POLICY_BYTES",
    "load_policy",
    "load_policy_bytes",
    "policy_schema",
    "validate_policy_file",
]

T = TypeVar("T")
PathKey = yaml_positions.Path

_RULE_LISTS: tuple[PathKey, ...] = (
    ("required_software",),
    ("forbidden_software",),
    ("removable_media", "rules"),
    ("internet", "rules"),
    ("asset",),
)
# The one size limit for a policy: `policy validate`, the server's `policy add`, the
# dashboard's upload and the agent's download all load through here. The policy answer that
# carries it (JSON, CJK escaped to at most twice its UTF-8 size) stays far below the agent's
# cap on any answer (agent.transport.MAX_ANSWER_BYTES, 4 MiB).
MAX_POLICY_BYTES = 512 * 1024
_MATCHER_KEYS = ("name", "publisher", "version")
_MIN_INTERVAL_SECONDS = 60
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)
# Stand-ins for values that failed a check (see the module docstring).
_NEVER_MATCHES = Pattern(r"(?!)")
_NO_NETWORK = ipaddress.ip_network("0.0.0.0/32")


def load_policy(path: Path) -> Policy:
    """The policy in `path`; PolicyError (with every problem) when it is unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = i18n.text("policy.unreadable", reason=exc.strerror or str(exc))
        raise PolicyError([problem(str(path), 0, reason)]) from exc
    return load_policy_bytes(data, str(path))


def load_policy_bytes(data: bytes, source: str) -> Policy:
    """The policy in `data`; `source` names the file in messages and in `Policy.source`."""
    if len(data) > MAX_POLICY_BYTES:
        limit = MAX_POLICY_BYTES // 1024
        reason = i18n.text("policy.too_large", size=len(data), limit=limit)
        raise PolicyError([problem(source, 0, reason)])
    document = read_yaml(data, source)
    if document.data is None:
        raise PolicyError([problem(source, 1, i18n.text("policy.empty"))])
    if not isinstance(document.data, dict):
        reason = i18n.text("policy.not_a_mapping", kind=local_kind_of(document.data))
        raise PolicyError([problem(source, document.line_of(()), reason)])
    builder = _PolicyBuilder(document, [*document.findings, *schema_findings(document)])
    policy = builder.build(sha256=hashlib.sha256(data).hexdigest(), source=source)
    problems = sorted(
        {finding.to_problem(source) for finding in builder.findings},
        key=lambda problem: (problem.line, problem.key, problem.reason),
    )
    if policy is None or problems:
        raise PolicyError(problems)
    return policy


def validate_policy_file(path: Path) -> list[PolicyProblem]:
    """Every problem in the policy at `path`, sorted by line; [] when it is valid."""
    try:
        load_policy(path)
    except PolicyError as exc:
        return list(exc.problems)
    return []


class _PolicyBuilder:
    """Pass 3: semantic checks and the typed model, over the parts the schema found sound."""

    def __init__(self, document: YamlDocument, findings: list[Finding]) -> None:
        self.findings = list(findings)
        self._document = document
        self._data: dict[str, Any] = document.data
        self._unsound = [finding.path for finding in findings]

    def build(self, sha256: str, source: str) -> Policy | None:
        schedule = self._section(("schedule",), self._schedule)
        required = self._each(("required_software",), self._required_software)
        forbidden = self._each(("forbidden_software",), self._forbidden_software)
        media = self._section(("removable_media",), self._removable_media)
        internet = self._section(("internet",), self._internet)
        asset = self._each(("asset",), self._asset)
        self._check_unique("rule id", self._ids(_RULE_LISTS))
        probe_lists = [(*path, "probes") for path, _ in self._items(("internet", "rules"))]
        self._check_unique("probe id", self._ids(probe_lists))
        if self.findings:
            return None
        data = self._data
        return Policy(
            id=data["id"],
            version=data["version"],
            title=_text(data["title"]),
            description=_text(data["description"]) if "description" in data else LocalText("", ""),
            schedule=schedule or Schedule(),
            required_software=required,
            forbidden_software=forbidden,
            removable_media=media,
            internet=internet,
            asset=asset,
            sha256=sha256,
            source=source,
        )

    # --- walking the sound parts --------------------------------------------------------

    def _sound(self, path: PathKey) -> bool:
        """Neither this value, nor anything inside it or around it, broke the schema."""
        return not any(bad[: len(path)] == path or path[: len(bad)] == bad for bad in self._unsound)

    def _intact(self, path: PathKey) -> bool:
        """This value and its parents have the right shape (its insides may not)."""
        return not any(path[: len(bad)] == bad for bad in self._unsound)

    def _value_at(self, path: PathKey) -> Any:
        value: Any = self._data
        for step in path:
            if isinstance(step, str) and isinstance(value, dict):
                value = value.get(step)
            elif isinstance(step, int) and isinstance(value, list) and step < len(value):
                value = value[step]
            else:
                return None
        return value

    def _items(self, path: PathKey) -> list[tuple[PathKey, Any]]:
        items = self._value_at(path)
        if not isinstance(items, list):
            return []
        return [((*path, index), item) for index, item in enumerate(items)]

    def _each(self, path: PathKey, build: Callable[[PathKey, Any], T | None]) -> tuple[T, ...]:
        """What `build` makes of each item that has the right shape itself."""
        if not self._intact(path):
            return ()
        built = (
            build(item_path, item)
            for item_path, item in self._items(path)
            if self._intact(item_path)
        )
        return tuple(item for item in built if item is not None)

    def _section(
        self, path: PathKey, build: Callable[[PathKey, dict[str, Any]], T | None]
    ) -> T | None:
        value = self._value_at(path)
        if not isinstance(value, dict) or not self._intact(path):
            return None
        return build(path, value)

    def _field(
        self, path: PathKey, spec: dict[str, Any], key: str, convert: Callable[[PathKey, Any], T]
    ) -> T | None:
        """`convert` applied to spec[key] when it is there and sound."""
        field_path = (*path, key)
        if key not in spec or not self._sound(field_path):
            return None
        return convert(field_path, spec[key])

    def _find(self, path: PathKey, reason: str) -> None:
        self.findings.append(Finding(path, self._document.line_of(path), reason))

    # --- sections -----------------------------------------------------------------------

    def _schedule(self, path: PathKey, spec: dict[str, Any]) -> Schedule | None:
        interval = self._field(path, spec, "interval", self._interval)
        jitter = self._field(path, spec, "jitter", self._duration)
        if not self._sound(path):
            return None
        schedule = Schedule(**_given(interval_seconds=interval, jitter_seconds=jitter))
        if schedule.jitter_seconds >= schedule.interval_seconds:
            self._find(
                (*path, "jitter"),
                f"jitter ({format_duration(schedule.jitter_seconds)}) must be shorter than "
                f"the interval ({format_duration(schedule.interval_seconds)})",
            )
        return schedule

    def _removable_media(self, path: PathKey, spec: dict[str, Any]) -> MediaSection | None:
        devices = self._each((*path, "registered"), self._registered_device)
        rules = self._each((*path, "rules"), self._media_rule)
        if not self._sound(path):
            return None
        return MediaSection(mode=MediaMode(spec["mode"]), registered=devices, rules=rules)

    def _internet(self, path: PathKey, spec: dict[str, Any]) -> InternetSection | None:
        networks: tuple[IpNetwork, ...] = self._each((*path, "allowed_networks"), self._network)
        rules = self._each((*path, "rules"), self._internet_rule)
        if not self._sound(path):
            return None
        return InternetSection(
            mode=InternetMode(spec["mode"]), allowed_networks=networks, rules=rules
        )

    # --- rules: each checks what it can, and is built only when all of it is sound -------

    def _rule_fields(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments every Rule takes."""
        return {
            "id": spec["id"],
            "severity": Severity(spec["severity"]),
            "title": _text(spec["title"]),
            "remedy": _text(spec["remedy"]) if "remedy" in spec else None,
            "platforms": frozenset(spec.get("platforms", ())),
        }

    def _required_software(
        self, path: PathKey, spec: dict[str, Any]
    ) -> RequiredSoftwareRule | None:
        match = self._section((*path, "match"), self._match)
        must_run = self._section((*path, "must_run"), self._run_requirement)
        if not self._sound(path) or match is None:
            return None
        return RequiredSoftwareRule(**self._rule_fields(spec), match=match, must_run=must_run)

    def _forbidden_software(
        self, path: PathKey, spec: dict[str, Any]
    ) -> ForbiddenSoftwareRule | None:
        match = self._section((*path, "match"), self._match)
        processes = self._each((*path, "processes"), self._regex)
        if not self._sound(path):
            return None
        return ForbiddenSoftwareRule(
            **self._rule_fields(spec), match=match or (), processes=processes
        )

    def _media_rule(self, path: PathKey, spec: dict[str, Any]) -> MediaRule | None:
        lookback = self._field(path, spec, "lookback", self._positive_duration)
        if not self._sound(path):
            return None
        return MediaRule(
            **self._rule_fields(spec),
            check=MediaCheck(spec["check"]),
            **_given(lookback_seconds=lookback),
        )

    def _internet_rule(self, path: PathKey, spec: dict[str, Any]) -> InternetRule | None:
        probes = self._each((*path, "probes"), self._probe)
        total_timeout = self._field(path, spec, "total_timeout", self._positive_duration)
        if not self._sound(path):
            return None
        return InternetRule(
            **self._rule_fields(spec),
            check=InternetCheck(spec["check"]),
            **_given(
                probes=probes if "probes" in spec else None,
                total_timeout_seconds=None if total_timeout is None else float(total_timeout),
                forbidden_kinds=(
                    tuple(spec["forbidden_kinds"]) if "forbidden_kinds" in spec else None
                ),
                interface_state=spec.get("state"),
                max_default_routes=spec.get("max"),
            ),
        )

    def _asset(self, path: PathKey, spec: dict[str, Any]) -> AssetRule | None:
        if not self._sound(path):
            return None
        return AssetRule(**self._rule_fields(spec), required_fields=tuple(spec["required_fields"]))

    # --- parts of rules -----------------------------------------------------------------

    def _match(self, path: PathKey, spec: dict[str, Any]) -> tuple[SoftwareMatcher, ...]:
        if "any" in spec:
            return self._each((*path, "any"), self._matcher)
        return (self._matcher(path, spec),)

    def _matcher(self, path: PathKey, spec: dict[str, Any]) -> SoftwareMatcher:
        patterns = {key: self._field(path, spec, key, self._regex) for key in _MATCHER_KEYS}
        return SoftwareMatcher(**{key: value for key, value in patterns.items() if value})

    def _run_requirement(self, path: PathKey, spec: dict[str, Any]) -> RunRequirement | None:
        processes = self._each((*path, "processes"), self._regex)
        services = self._each((*path, "services"), self._regex)
        if not self._sound(path):
            return None
        return RunRequirement(
            processes=processes, services=services, **_given(mode=spec.get("mode"))
        )

    def _registered_device(self, path: PathKey, spec: dict[str, Any]) -> RegisteredDevice | None:
        if not self._sound(path):
            return None
        return RegisteredDevice(
            vendor_id=normalise_hex_id(spec["vendor_id"]),
            product_id=normalise_hex_id(spec["product_id"]),
            serial=spec["serial"].strip(),
            note=spec.get("note", ""),
        )

    def _probe(self, path: PathKey, spec: dict[str, Any]) -> ProbeSpec | None:
        kind = spec.get("kind") if self._sound((*path, "kind")) else None
        target = self._probe_target(path, kind, spec)
        responder_key = self._field(path, spec, "responder_key", self._responder_key)
        timeout = self._field(path, spec, "timeout", self._positive_duration)
        if not self._sound(path) or target is None:
            return None
        return ProbeSpec(
            id=spec["id"],
            kind=spec["kind"],
            target=target,
            responder_key=responder_key,
            **_given(timeout_seconds=None if timeout is None else float(timeout)),
        )

    def _probe_target(self, path: PathKey, kind: Any, spec: dict[str, Any]) -> str | None:
        """url for http(s); "host:port" ("[v6]:port") for tcp; "name" or "name@server" for dns."""
        if kind in ("http", "https"):
            return self._field(
                path, spec, "url", lambda url_path, url: self._url(url_path, kind, url)
            )
        if kind == "tcp":
            host = self._field(path, spec, "host", self._host)
            port = spec.get("port") if self._sound((*path, "port")) else None
            if host is None or port is None:
                return None
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if kind == "dns":
            name = self._field(path, spec, "name", self._dns_name)
            server = self._field(path, spec, "server", self._address)
            if name is None:
                return None
            return name if server is None else f"{name}@{server}"
        return None

    # --- values: each records what is wrong and returns a stand-in ----------------------

    def _regex(self, path: PathKey, text: str) -> Pattern:
        """Valid as a Python regex, free of the catastrophic shapes, compiled to match with
        a time limit (agent.policy.backtracking, agent.policy.patterns)."""
        try:
            re.compile(text, re.IGNORECASE)
            danger = catastrophic_backtracking(text)
            if danger is None:
                return Pattern(text)
        except (re.error, regex.error, RecursionError) as exc:
            self._find(path, f"invalid regular expression '{text}': {exc}")
            return _NEVER_MATCHES
        self._find(path, f"regular expression '{text}' can backtrack catastrophically: {danger}")
        return _NEVER_MATCHES

    def _duration(self, path: PathKey, text: str) -> int:
        return self._seconds(path, text, minimum=0)

    def _positive_duration(self, path: PathKey, text: str) -> int:
        return self._seconds(path, text, minimum=1)

    def _interval(self, path: PathKey, text: str) -> int:
        return self._seconds(path, text, minimum=_MIN_INTERVAL_SECONDS)

    def _seconds(self, path: PathKey, text: str, minimum: int) -> int:
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            self._find(path, str(exc))
            return minimum
        if seconds < minimum:
            self._find(path, f"must be at least {format_duration(minimum)} (got {text})")
        return seconds

    def _network(self, path: PathKey, text: str) -> IpNetwork:
        try:
            return ipaddress.ip_network(text, strict=False)
        except ValueError:
            self._find(path, f"'{text}' is not a network; write one like 10.0.0.0/8 or fd00::/8")
            return _NO_NETWORK

    def _url(self, path: PathKey, kind: str, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme.lower() != kind:
            shown = f"scheme '{parts.scheme}'" if parts.scheme else "no scheme"
            self._find(
                path, f"url has {shown} but the probe kind is {kind}; start it with {kind}://"
            )
        elif not parts.hostname:
            self._find(path, f"url '{url}' names no host")
        else:
            try:
                parts.port  # noqa: B018 - reading the port is what parses it
            except ValueError:
                self._find(path, f"url '{url}' has an invalid port")
        return url

    def _host(self, path: PathKey, text: str) -> str:
        if not _is_address(text) and not _is_dns_name(text):
            self._find(path, f"'{text}' is neither an IP address nor a DNS name")
        return text

    def _dns_name(self, path: PathKey, text: str) -> str:
        if _is_address(text):
            self._find(path, f"'{text}' is an IP address; a dns probe resolves a name")
        elif not _is_dns_name(text):
            self._find(path, f"'{text}' is not a DNS name")
        return text

    def _address(self, path: PathKey, text: str) -> str:
        if not _is_address(text):
            self._find(path, f"'{text}' is not an IP address; name the DNS server by its address")
        return text

    def _responder_key(self, path: PathKey, text: str) -> bytes:
        try:
            return decode_public_key(text)
        except ValueError as exc:
            self._find(path, str(exc))
            return b""

    # --- across the policy --------------------------------------------------------------

    def _ids(self, lists: list[PathKey] | tuple[PathKey, ...]) -> list[tuple[str, PathKey]]:
        """(id, path of its key) of every entry in `lists` that has a textual id."""
        return [
            (item["id"], (*path, "id"))
            for list_path in lists
            for path, item in self._items(list_path)
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    def _check_unique(self, what: str, entries: list[tuple[str, PathKey]]) -> None:
        first_line: dict[str, int] = {}
        for ident, path in sorted(entries, key=lambda entry: self._document.line_of(entry[1])):
            if ident in first_line:
                self._find(
                    path, f"duplicate {what} '{ident}' (first used at line {first_line[ident]})"
                )
            else:
                first_line[ident] = self._document.line_of(path)


def _given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that have a value. Left-out keys keep the model's defaults, so
    each default is written down once, in the model."""
    return {key: value for key, value in values.items() if value is not None}


def _text(spec: Mapping[str, str]) -> LocalText:
    return LocalText(zh=spec["zh"], en=spec["en"])


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_dns_name(text: str) -> bool:
    """Letters, digits and hyphens in dot-separated labels; international names via IDNA."""
    try:
        ascii_name = text.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_name.split(".")
    return len(ascii_name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)

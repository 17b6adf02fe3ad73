"""A policy after validation: typed, frozen, regexes compiled (time-limited, see
agent.policy.patterns), networks parsed.

The loader (`agent.policy.loader`) is the only way to build one from YAML; by the time a
`Policy` exists every regex compiles, every rule id is unique and every network parses, so the
evaluator never has to second-guess its input.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from agent.i18n import LocalText
from agent.policy.patterns import Pattern

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Severity(str, enum.Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Category(str, enum.Enum):
    """The check-sheet groups that dashboards and exports count violations by."""

    SOFTWARE = "software"
    MEDIA = "media"
    INTERNET = "internet"
    ASSET = "asset"


@dataclass(frozen=True)
class Rule:
    """What every rule has, whatever it checks."""

    id: str
    severity: Severity
    title: LocalText
    remedy: LocalText | None = None
    # Empty means every platform; otherwise the rule is not_applicable elsewhere.
    platforms: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SoftwareMatcher:
    """All given patterns must match (regex search, case-insensitive)."""

    name: Pattern | None = None
    publisher: Pattern | None = None
    version: Pattern | None = None


@dataclass(frozen=True)
class RunRequirement:
    """Which processes and services show that required software is actually running.

    `mode: any` (default) is satisfied by one running process or service matching any
    pattern; `all` needs every listed pattern to match something running.
    """

    processes: tuple[Pattern, ...] = ()
    services: tuple[Pattern, ...] = ()
    mode: Literal["any", "all"] = "any"


@dataclass(frozen=True)
class RequiredSoftwareRule(Rule):
    match: tuple[SoftwareMatcher, ...] = ()  # installed if any matcher matches a package
    must_run: RunRequirement | None = None


@dataclass(frozen=True)
class ForbiddenSoftwareRule(Rule):
    match: tuple[SoftwareMatcher, ...] = ()  # violation if any matcher matches a package
    processes: tuple[Pattern, ...] = ()  # portable tools are never "installed"


class MediaMode(str, enum.Enum):
    FORBID = "forbid"
    REGISTERED_ONLY = "registered_only"
    ALLOW = "allow"


class MediaCheck(str, enum.Enum):
    STORAGE_ATTACHED = "storage_attached"
    STORAGE_HISTORY = "storage_history"
    PHONES = "phones"


@dataclass(frozen=True)
class RegisteredDevice:
    """A unit's registered removable device (专用U盘): vendor id + product id + serial."""

    vendor_id: str  # four lowercase hex digits
    product_id: str
    serial: str
    note: str = ""


@dataclass(frozen=True)
class MediaRule(Rule):
    check: MediaCheck = MediaCheck.STORAGE_ATTACHED
    lookback_seconds: int = 30 * 86400  # storage_history only


@dataclass(frozen=True)
class MediaSection:
    mode: MediaMode
    registered: tuple[RegisteredDevice, ...]
    rules: tuple[MediaRule, ...]


class InternetMode(str, enum.Enum):
    FORBIDDEN = "forbidden"
    ALLOWLIST = "allowlist"
    ALLOWED = "allowed"


class InternetCheck(str, enum.Enum):
    PROBES = "probes"  # no probe endpoint may be reachable
    INTERFACES = "interfaces"  # no interface of a forbidden kind
    DEFAULT_ROUTES = "default_routes"  # at most `max_default_routes`, gateways in allowed nets
    CONNECTIONS = "connections"  # no established connection to a global address outside nets
    DNS = "dns"  # every DNS server inside allowed networks


@dataclass(frozen=True)
class ProbeSpec:
    """One external endpoint the agent tries to reach.

    `responder_key` (raw Ed25519 public key) makes the probe count only when the answer is
    signed over the agent's nonce by that key: a captive portal cannot pass for the internet.
    """

    id: str
    kind: Literal["http", "https", "tcp", "dns"]
    target: str  # URL for http(s), "host:port" for tcp, a name for dns
    responder_key: bytes | None = None
    timeout_seconds: float = 3.0


@dataclass(frozen=True)
class InternetRule(Rule):
    check: InternetCheck = InternetCheck.PROBES
    probes: tuple[ProbeSpec, ...] = ()
    total_timeout_seconds: float = 8.0
    forbidden_kinds: tuple[str, ...] = ()
    interface_state: Literal["up", "present"] = "up"
    max_default_routes: int = 1


@dataclass(frozen=True)
class InternetSection:
    mode: InternetMode
    allowed_networks: tuple[IpNetwork, ...]
    rules: tuple[InternetRule, ...]


@dataclass(frozen=True)
class AssetRule(Rule):
    """The asset fields a unit must fill in on every machine (check-sheet registration)."""

    required_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    interval_seconds: int = 3600
    jitter_seconds: int = 300


@dataclass(frozen=True)
class Policy:
    id: str
    version: str
    title: LocalText
    description: LocalText
    schedule: Schedule
    required_software: tuple[RequiredSoftwareRule, ...] = ()
    forbidden_software: tuple[ForbiddenSoftwareRule, ...] = ()
    removable_media: MediaSection | None = None
    internet: InternetSection | None = None
    asset: tuple[AssetRule, ...] = ()
    sha256: str = ""  # of the exact YAML bytes the policy came from
    source: str = field(default="", compare=False)  # file path, for messages

    def all_rules(self) -> tuple[Rule, ...]:
        rules: list[Rule] = [*self.required_software, *self.forbidden_software]
        if self.removable_media:
            rules.extend(self.removable_media.rules)
        if self.internet:
            rules.extend(self.internet.rules)
        rules.extend(self.asset)
        return tuple(rules)

"""What is wrong, in words: the line a violation list shows for a failing finding.

A rule's title states the requirement ("终端安全审计客户端已安装并运行"); a list of violations
must say what is wrong instead ("未安装：终端安全审计客户端"). The words come from the finding's
category and its evidence (the agent's own data, see agent.evaluation), so the agent's check
sheet, the dashboard, notices and alerts all derive the same line from the same finding, and
the server needs nothing but what a report already carries.

    what_is_wrong(category, title, evidence)          one failing finding, with its details
    what_is_wrong_with_rule(category, title, ...)     a rule failing on many hosts (no details)
    not_checked(category, title, required)            a rule that could be checked nowhere

The thing a required-software rule is about is its title without the requirement's verb
("已安装并运行", "installed and running"); a title that does not read like that is used whole.
Details are agent-supplied text: plain strings, capped, for templates to escape.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from agent.evaluation.media import describe
from agent.glossary import FIELDS, INTERFACE_KINDS, PROBLEMS, Lang, listing, term
from agent.i18n import LocalText

MAX_ITEMS = 5
MAX_ITEM_CHARS = 80

_REQUIRED_ZH = re.compile(r"(已安装(并|且)?(正在)?运行|已安装)")
_REQUIRED_EN = re.compile(r"\s+(is\s+)?installed(\s+and\s+running)?\b", re.IGNORECASE)
_FORBIDDEN_ZH = re.compile(
    r"^(未安装[、和或及]?未运行|未安装[、和或及]?运行|未安装|未运行|未使用|无|禁止)"
)
_FORBIDDEN_EN = re.compile(r"^no\s+", re.IGNORECASE)


def _phrase(key: str, lang: Lang) -> str:
    return term(PROBLEMS, key, lang)


def _colon(lang: Lang) -> str:
    return "：" if lang == "zh" else ": "


def _both(key: str, details: LocalText | None = None) -> LocalText:
    """The phrase of `key`, followed by the details (if any) in each language."""
    zh, en = _phrase(key, "zh"), _phrase(key, "en")
    if details is not None and details.zh and details.en:
        return LocalText(zh + _colon("zh") + details.zh, en + _colon("en") + details.en)
    return LocalText(zh, en)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ITEM_CHARS else text[: MAX_ITEM_CHARS - 1] + "…"


def _items(items: Sequence[LocalText]) -> LocalText:
    """Up to MAX_ITEMS items, then how many more."""
    shown = list(items[:MAX_ITEMS])
    more = len(items) - len(shown)

    def one(lang: Lang) -> str:
        words = [_short(item.get(lang)) for item in shown]
        if more:
            words.append(_phrase("more", lang).format(count=more))
        return listing(words, lang)

    return LocalText(one("zh"), one("en"))


def _same(texts: Sequence[str]) -> list[LocalText]:
    return [LocalText(text, text) for text in texts if text]


def subject(title: LocalText, required: bool) -> LocalText:
    """What the rule is about: its title without "installed and running" or "no"."""
    if required:
        zh = _REQUIRED_ZH.sub("", title.zh, count=1).strip()
        en = _REQUIRED_EN.sub("", title.en, count=1).strip()
    else:
        zh = _FORBIDDEN_ZH.sub("", title.zh.strip(), count=1).strip()
        en = _FORBIDDEN_EN.sub("", title.en.strip(), count=1).strip()
    return LocalText(zh or title.zh, en or title.en)


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


# --- which kind of failure a finding is -----------------------------------------------------


def failure_kind(category: str, evidence: Mapping[str, Any]) -> str:
    """A key of glossary.PROBLEMS, read from the shape of the evidence each evaluator sends."""
    if category == "software":
        if "installed" not in evidence:
            return "software.forbidden"
        if evidence.get("installed") is False:
            return "software.missing"
        if evidence.get("running") is False:
            return "software.not_running"
        return "software.missing_or_not_running"
    if category == "media":
        forbid = evidence.get("mode") == "forbid"
        devices = _records(evidence.get("devices"))
        if "events" in evidence:
            return "media.history_forbidden" if forbid else "media.history"
        if "mode" in evidence or any("registered" in device for device in devices):
            return "media.attached_forbidden" if forbid else "media.attached"
        if any(device.get("class") == "mtp-ptp" or "bus_path" in device for device in devices):
            return "media.phones"
    if category == "internet":
        for key, kind in (
            ("probes", "internet.probes"),
            ("interfaces", "internet.interfaces"),
            ("default_routes", "internet.routes_or_gateway"),
            ("connections", "internet.connections"),
            ("dns_servers", "internet.dns"),
        ):
            if key in evidence:
                return kind
    if category == "asset" and "missing" in evidence:
        return "asset.missing"
    return "other"


# --- the details of one finding -------------------------------------------------------------


def _forbidden_items(evidence: Mapping[str, Any]) -> list[LocalText]:
    found = _same(
        [
            f"{_text(p.get('name'))} {_text(p.get('version'))}".strip()
            for p in _records(evidence.get("packages"))
        ]
    )
    for process in _records(evidence.get("processes")):
        name = _text(process.get("name"))
        pid = _text(process.get("pid"))
        zh = f"{name}（{_phrase('process', 'zh').format(pid=pid)}）" if pid else name
        en = f"{name} ({_phrase('process', 'en').format(pid=pid)})" if pid else name
        found.append(LocalText(zh, en))
    return found


def _devices(
    rows: list[Mapping[str, Any]], names: tuple[str, ...], forbid: bool
) -> list[LocalText]:
    found = []
    for row in rows:
        if not forbid and row.get("registered") is not False:
            continue
        name = " ".join(_text(row.get(key)).strip() for key in names if row.get(key)) or _text(
            row.get("device")
        )
        found.append(
            describe(
                name,
                _text(row.get("vendor_id")),
                _text(row.get("product_id")),
                _text(row.get("serial")),
            )
        )
    return found


def _interfaces(evidence: Mapping[str, Any]) -> list[LocalText]:
    present = evidence.get("state") == "present"
    return [
        LocalText(
            f"{_text(row.get('name'))}（{term(INTERFACE_KINDS, row.get('kind'), 'zh')}）",
            f"{_text(row.get('name'))} ({term(INTERFACE_KINDS, row.get('kind'), 'en')})",
        )
        for row in _records(evidence.get("interfaces"))
        if row.get("forbidden") is True and (present or row.get("up") is True)
    ]


def _routes(evidence: Mapping[str, Any]) -> LocalText:
    """Too many default routes of one family, or else gateways outside the allowed networks."""
    routes = _records(evidence.get("default_routes"))
    most = evidence.get("max")
    for family in ("ipv4", "ipv6"):
        count = sum(1 for route in routes if route.get("family") == family)
        if isinstance(most, int) and count > most:
            label = family.replace("ip", "IP")
            values = {"family": label, "count": count, "max": most}
            return _both(
                "internet.routes",
                LocalText(
                    _phrase("routes_count", "zh").format(**values),
                    _phrase("routes_count", "en").format(**values),
                ),
            )
    outside = evidence.get("outside_gateways")
    gateways = _same(
        [_text(item) for item in outside]
        if isinstance(outside, list)
        else [_text(route.get("gateway")) for route in routes]
    )
    return _both("internet.gateway", _items(gateways) if gateways else None)


def _connections(evidence: Mapping[str, Any]) -> list[LocalText]:
    found = []
    for row in _records(evidence.get("connections")):
        address = f"{_text(row.get('remote'))}:{_text(row.get('port'))}"
        process = _text(row.get("process"))
        found.append(
            LocalText(f"{address}（{process}）", f"{address} ({process})")
            if process
            else LocalText(address, address)
        )
    return found


def _details(kind: str, title: LocalText, evidence: Mapping[str, Any]) -> LocalText | None:
    if kind.startswith("software.") and kind != "software.forbidden":
        return subject(title, required=True)
    if kind == "software.forbidden":
        found = _forbidden_items(evidence)
        return _items(found) if found else subject(title, required=False)
    forbid = kind.endswith("_forbidden")
    if kind.startswith("media.attached"):
        devices = _devices(_records(evidence.get("devices")), ("vendor", "model"), forbid)
    elif kind.startswith("media.history"):
        events = _records(evidence.get("events"))
        devices = _devices(events, ("product",), forbid) or _devices(
            events, ("manufacturer",), forbid
        )
    elif kind == "media.phones":
        devices = _devices(_records(evidence.get("devices")), ("manufacturer", "product"), True)
    elif kind == "internet.probes":
        devices = _same(
            [
                _text(row.get("target"))
                for row in _records(evidence.get("probes"))
                if row.get("outcome") == "reached"
            ]
        )
    elif kind == "internet.interfaces":
        devices = _interfaces(evidence)
    elif kind == "internet.connections":
        devices = _connections(evidence)
    elif kind == "internet.dns":
        outside = evidence.get("outside")
        devices = _same([_text(item) for item in outside]) if isinstance(outside, list) else []
    elif kind == "asset.missing":
        missing = evidence.get("missing")
        names = [str(item) for item in missing] if isinstance(missing, list) else []
        devices = [LocalText(term(FIELDS, n, "zh"), term(FIELDS, n, "en")) for n in names]
    else:
        return title
    return _items(devices) if devices else None


def what_is_wrong(category: str, title: LocalText, evidence: Any) -> LocalText:
    """One failing finding: "未安装：终端安全审计客户端（奇安信天擎）", "接入了未登记的移动
    存储介质：Generic Flash Disk [058f:6387 序列号 AA01]", "可以访问互联网：https://…"."""
    facts = evidence if isinstance(evidence, Mapping) else {}
    kind = failure_kind(category, facts)
    if kind == "internet.routes_or_gateway":
        return _routes(facts)
    return _both(kind, _details(kind, title, facts))


def what_is_wrong_with_rule(
    category: str,
    title: LocalText,
    sample_evidence: Any,
    installed: Collection[bool | None] = (),
) -> LocalText:
    """A rule failing on several hosts, for a list grouped by rule: the kind of failure
    without any one host's details. `installed` holds the installed flags of the failing
    hosts of a required-software rule (not installed on all, installed on all, or both)."""
    facts = sample_evidence if isinstance(sample_evidence, Mapping) else {}
    kind = failure_kind(category, facts)
    if kind.startswith("software.") and kind != "software.forbidden":
        states = set(installed)
        if states == {False}:
            kind = "software.missing"
        elif states == {True}:
            kind = "software.not_running"
        else:
            kind = "software.missing_or_not_running"
        return _both(kind, subject(title, required=True))
    if kind == "software.forbidden":
        return _both(kind, subject(title, required=False))
    if kind == "other":
        return _both(kind, title)
    return _both(kind)


def not_checked(category: str, title: LocalText, required: bool) -> LocalText:
    """A rule no host fails but some could not check, for a list grouped by rule: "未能检查：
    终端安全审计客户端". Not the rule's title alone, which states a requirement as if it were
    met. `required`: a required-software rule (its title names the software to have)."""
    if category == "software":
        return _both("unchecked", subject(title, required=required))
    return _both("unchecked", title)

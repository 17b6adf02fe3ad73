"""Internet access: probes that must fail, and the local signs of a second way out.

Probes answer "can this PC reach the internet now"; interfaces, default routes, connections and
DNS servers answer "does it carry a path that could" (Wi-Fi, 4G, tethering, an extra route),
which catches a machine that was online between two checks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from agent.errors import Cause
from agent.evaluation.common import could_not_check, facts_missing, not_applicable_here
from agent.evaluation.findings import Finding, Status
from agent.facts import Interface, Inventory, NetworkFacts, ProbeOutcome, ProbeResult, Route
from agent.glossary import INTERFACE_KINDS, listing, term
from agent.i18n import LocalText, join, text
from agent.policy.model import (
    Category,
    InternetCheck,
    InternetMode,
    InternetRule,
    InternetSection,
    IpNetwork,
)

CATEGORY = Category.INTERNET


def inside(address: str, networks: Sequence[IpNetwork]) -> bool:
    """Loopback and link-local never leave the machine or the segment: always inside."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.is_loopback or ip.is_link_local:
        return True
    return any(ip.version == net.version and ip in net for net in networks)


def _probe_evidence(results: Sequence[ProbeResult]) -> list[dict[str, object]]:
    return [
        {
            "probe": r.probe_id,
            "kind": r.kind,
            "target": r.target,
            "outcome": r.outcome.value,
            "verified": r.verified,
            "elapsed_ms": round(r.elapsed_ms, 1),
            "detail": r.detail,
        }
        for r in results
    ]


def _probes(rule: InternetRule, results: Sequence[ProbeResult]) -> Finding:
    evidence = {"probes": _probe_evidence(results)}
    if not results:
        message = text("internet.probes_error")
        return could_not_check(rule, CATEGORY, message, evidence, Cause.FAILED, "no probe result")
    reached = [r for r in results if r.outcome is ProbeOutcome.REACHED]
    if reached:
        targets = ", ".join(f"{r.target} ({r.elapsed_ms:.0f} ms)" for r in reached)
        return Finding.of(
            rule, CATEGORY, Status.FAIL, text("internet.probes_reached", targets=targets), evidence
        )
    errors = [r for r in results if r.outcome is ProbeOutcome.ERROR]
    if results and len(errors) == len(results):
        reason = "; ".join(f"{r.probe_id}: {r.detail}" for r in errors)
        message = text("internet.probes_error")
        return could_not_check(rule, CATEGORY, message, evidence, Cause.FAILED, reason)
    unverified = [r for r in results if r.outcome is ProbeOutcome.UNVERIFIED]
    if unverified:
        targets = ", ".join(r.target for r in unverified)
        message = text("internet.probes_unverified", targets=targets)
        return Finding.of(rule, CATEGORY, Status.PASS, message, evidence)
    return Finding.of(
        rule, CATEGORY, Status.PASS, text("internet.probes_blocked", count=len(results)), evidence
    )


def _route_text(route: Route) -> str:
    via = f" via {route.gateway}" if route.gateway else ""
    return f"{route.destination}{via} dev {route.interface} metric {route.metric}"


def _kind(kind: str) -> LocalText:
    return LocalText(zh=term(INTERFACE_KINDS, kind, "zh"), en=term(INTERFACE_KINDS, kind, "en"))


def _named(interface: Interface) -> LocalText:
    """ "wlan0（无线网卡，已启用）" / "wlan0 (Wi-Fi, up)"."""
    kind = _kind(interface.kind.value)
    up = ("，已启用", ", up") if interface.is_up else ("", "")
    return LocalText(
        zh=f"{interface.name}（{kind.zh}{up[0]}）", en=f"{interface.name} ({kind.en}{up[1]})"
    )


def _interfaces(rule: InternetRule, network: NetworkFacts) -> Finding:
    kinds = set(rule.forbidden_kinds)
    rows = [
        {
            "name": i.name,
            "kind": i.kind.value,
            "up": i.is_up,
            "driver": i.driver,
            "mac": i.mac,
            "addresses": [a.address for a in i.addresses],
            "forbidden": i.kind.value in kinds,
        }
        for i in network.interfaces
    ]
    bad = [
        i
        for i in network.interfaces
        if i.kind.value in kinds and (i.is_up or rule.interface_state == "present")
    ]
    evidence = {"forbidden_kinds": sorted(kinds), "state": rule.interface_state, "interfaces": rows}
    if bad:
        message = text("internet.interfaces_found", interfaces=join([_named(i) for i in bad]))
        return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    words = [_kind(kind) for kind in sorted(kinds)]
    listed = LocalText(
        zh=listing([w.zh for w in words], "zh"), en=listing([w.en for w in words], "en")
    )
    message = text("internet.interfaces_ok", kinds=listed)
    return Finding.of(rule, CATEGORY, Status.PASS, message, evidence)


def _default_routes(rule: InternetRule, section: InternetSection, network: NetworkFacts) -> Finding:
    defaults = network.default_routes
    evidence: dict[str, object] = {
        "max": rule.max_default_routes,
        "default_routes": [
            {
                "destination": r.destination,
                "gateway": r.gateway,
                "interface": r.interface,
                "metric": r.metric,
                "family": r.family,
            }
            for r in defaults
        ],
    }
    for family in ("ipv4", "ipv6"):
        routes = [r for r in defaults if r.family == family]
        if len(routes) > rule.max_default_routes:
            message = text(
                "internet.routes_too_many",
                family=family.replace("ip", "IP"),
                count=len(routes),
                max=rule.max_default_routes,
                routes="; ".join(_route_text(r) for r in routes),
            )
            return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    networks = section.allowed_networks
    if networks and section.mode is not InternetMode.ALLOWED:
        outside = [r.gateway for r in defaults if r.gateway and not inside(r.gateway, networks)]
        if outside:
            evidence["outside_gateways"] = outside
            message = text("internet.gateway_outside", gateways=", ".join(outside))
            return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    message = text("internet.routes_ok", count=len(defaults))
    return Finding.of(rule, CATEGORY, Status.PASS, message, evidence)


def _connections(rule: InternetRule, section: InternetSection, network: NetworkFacts) -> Finding:
    bad = [c for c in network.connections if not inside(c.remote_address, section.allowed_networks)]
    evidence = {
        "connections": [
            {
                "remote": c.remote_address,
                "port": c.remote_port,
                "local": c.local_address,
                "pid": c.pid,
                "process": c.process_name,
                "protocol": c.protocol,
            }
            for c in bad
        ]
    }
    if bad:
        listed = ", ".join(
            f"{c.remote_address}:{c.remote_port} ({c.process_name or '?'}, pid {c.pid})"
            for c in bad[:10]
        )
        message = text("internet.connections_found", connections=listed)
        return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    return Finding.of(rule, CATEGORY, Status.PASS, text("internet.connections_ok"), evidence)


def _dns(rule: InternetRule, section: InternetSection, network: NetworkFacts) -> Finding:
    if not section.allowed_networks:
        return Finding.of(rule, CATEGORY, Status.NOT_APPLICABLE, text("internet.no_networks"))
    outside = [s for s in network.dns_servers if not inside(s, section.allowed_networks)]
    evidence = {"dns_servers": list(network.dns_servers), "outside": outside}
    if outside:
        message = text("internet.dns_outside", servers=", ".join(outside))
        return Finding.of(rule, CATEGORY, Status.FAIL, message, evidence)
    return Finding.of(rule, CATEGORY, Status.PASS, text("internet.dns_ok"), evidence)


# Checks that only mean something where the internet is forbidden or allow-listed.
_ONLY_WHEN_RESTRICTED = frozenset(
    {InternetCheck.PROBES, InternetCheck.CONNECTIONS, InternetCheck.DNS}
)


def evaluate_internet(
    rule: InternetRule,
    section: InternetSection,
    inventory: Inventory,
    platform: str,
    probe_results: Mapping[str, Sequence[ProbeResult]],
) -> Finding:
    skipped = not_applicable_here(rule, CATEGORY, platform)
    if skipped:
        return skipped
    if section.mode is InternetMode.ALLOWED and rule.check in _ONLY_WHEN_RESTRICTED:
        return Finding.of(rule, CATEGORY, Status.NOT_APPLICABLE, text("internet.allowed"))
    if rule.check is InternetCheck.PROBES:
        return _probes(rule, probe_results.get(rule.id, ()))
    network = inventory.network
    if network is None:
        return facts_missing(rule, CATEGORY, "network", inventory)
    if rule.check is InternetCheck.INTERFACES:
        return _interfaces(rule, network)
    if rule.check is InternetCheck.DEFAULT_ROUTES:
        return _default_routes(rule, section, network)
    if rule.check is InternetCheck.CONNECTIONS:
        return _connections(rule, section, network)
    return _dns(rule, section, network)

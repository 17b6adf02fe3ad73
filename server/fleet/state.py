"""The dashboard's denormalised view of a host, derived from each full report at ingest.

Overview, host lists and the asset register count and filter hosts by "is anything failing,
in which category, under which policy, which gateways does it use". Reading that out of
findings or report bodies on every page view would not scale to 100,000 hosts, so ingest
stores it on the Host (and install/running on the LatestFinding) in the same transaction
that stores the report: the figures can never disagree with the findings they summarise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.protocol.compliance import compliance_state
from server.fleet.models import AddressKind, Host, HostAddress
from server.lib.required_software import (  # used by ingest and benchmarks
    is_required_software as is_required_software,
)
from server.lib.required_software import (
    required_software_state as required_software_state,
)
from server.lib.storable import clean_text

CATEGORY_FLAGS = {
    "software": "failing_software",
    "media": "failing_media",
    "internet": "failing_internet",
    "asset": "failing_asset",
}
MAX_NEIGHBOURS = 32
NO_MAC = frozenset({"", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
_UNSPECIFIED = frozenset({"", "0.0.0.0", "::", "*"})  # noqa: S104  (no gateway, not a bind)


def apply_failures(host: Host, findings: list[dict[str, Any]]) -> None:
    """Compliance and per-category failure flags from a full report's (validated) findings.

    The state is the one definition's (`compliance_state`): a rule that could not be checked
    makes the host "unchecked", never compliant. The report's own summary is not consulted:
    the findings are what the figures must agree with.
    """
    failing = [finding for finding in findings if finding["status"] == "fail"]
    host.failed_count = len(failing)
    host.unchecked_count = sum(1 for finding in findings if finding["status"] == "error")
    host.compliance = compliance_state(finding["status"] for finding in findings).value
    categories = {finding["category"] for finding in failing}
    for category, flag in CATEGORY_FLAGS.items():
        setattr(host, flag, category in categories)


def _addresses(values: Any) -> list[str]:
    found: list[str] = []
    for value in values if isinstance(values, list) else []:
        text = clean_text(value, 64).strip()
        if text not in _UNSPECIFIED and text not in found:
            found.append(text)
    return found[:MAX_NEIGHBOURS]


def neighbours(inventory: Any) -> tuple[list[str], list[str]]:
    """(gateways of every route, DNS servers) a full report's inventory names.

    An inventory whose network part could not be collected (null) names none: the asset
    register then simply has nothing from this host, which is what is known.
    """
    network = inventory.get("network") if isinstance(inventory, Mapping) else None
    if not isinstance(network, Mapping):
        return [], []
    routes = network.get("routes")
    gateways = (
        [route.get("gateway") for route in routes if isinstance(route, Mapping)]
        if isinstance(routes, list)
        else []
    )
    return _addresses(gateways), _addresses(network.get("dns_servers"))


def replace_addresses(
    host: Host, gateways: list[str] | None = None, dns_servers: list[str] | None = None
) -> None:
    """Make the host's HostAddress rows its own IPs and MACs (as stored on it) plus the given
    neighbours; rows are only written when the set changed."""
    wanted = {(AddressKind.IP.value, ip) for ip in host.ip_addresses if ip}
    wanted |= {
        (AddressKind.MAC.value, mac.lower())
        for mac in host.mac_addresses
        if mac.lower() not in NO_MAC
    }
    wanted |= {(AddressKind.GATEWAY.value, address) for address in gateways or []}
    wanted |= {(AddressKind.DNS.value, address) for address in dns_servers or []}
    rows = HostAddress.objects.filter(host=host)
    if set(rows.values_list("kind", "value")) == wanted:
        return
    rows.delete()
    HostAddress.objects.bulk_create(
        HostAddress(host=host, kind=kind, value=value[:64]) for kind, value in sorted(wanted)
    )

"""The asset register's checks over the hosts in scope: what the check sheets compare.

    duplicate IPs          one address on several hosts
    duplicate MACs         one hardware address on several hosts (cloned VMs, spoofing)
    IP / number conflicts  one address on hosts with different machine numbers, or one
                           machine number on hosts with different addresses ("IP allocation
                           must match machine numbering one to one")
    incomplete records     hosts whose asset fields are not all filled in
    seen, not enrolled     gateways and DNS servers named in full reports that are not an
                           address of any enrolled host in scope

Each check is a GROUP BY over HostAddress (one indexed row per address a host names, kept by
ingest) or over the hosts' asset columns; Python only arranges the groups shown (at most
MAX_GROUPS per section, the rest counted). No report is read. Revoked hosts are out of
service and left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from server.fleet.identity import ASSET_FIELDS
from server.fleet.models import AddressKind, Host, HostAddress, HostStatus

MAX_GROUPS = 200  # per section; the page says how many more there are
_REF_FIELDS = ("host__host_id", "host__hostname", "host__unit__path", "host__machine_number")


@dataclass(frozen=True)
class HostRef:
    host_id: str
    hostname: str
    unit_path: str
    machine_number: str


@dataclass(frozen=True)
class Group:
    """Hosts that share `key` (an address or a machine number)."""

    key: str
    hosts: list[HostRef]
    values: list[str] = field(default_factory=list)  # the differing numbers or addresses


@dataclass(frozen=True)
class Incomplete:
    host: HostRef
    missing: list[str]


@dataclass(frozen=True)
class Neighbour:
    address: str
    roles: list[str]  # "gateway", "dns"
    named_by: int  # hosts naming it


@dataclass
class Section:
    items: list[Any]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class Register:
    hosts: int
    duplicate_ips: Section
    duplicate_macs: Section
    ip_number_conflicts: Section
    number_ip_conflicts: Section
    incomplete: Section
    neighbours: Section


def _ref(row: dict[str, Any], prefix: str = "host__") -> HostRef:
    return HostRef(
        row[f"{prefix}host_id"],
        row[f"{prefix}hostname"],
        row[f"{prefix}unit__path"],
        row[f"{prefix}machine_number"],
    )


def _members(
    addresses: QuerySet[HostAddress], kind: str, keys: list[str]
) -> dict[str, list[HostRef]]:
    rows = (
        addresses.filter(kind=kind, value__in=keys)
        .order_by("value", "host__hostname", "host__host_id")
        .values("value", *_REF_FIELDS)
    )
    members: dict[str, list[HostRef]] = defaultdict(list)
    for row in rows:
        members[row["value"]].append(_ref(row))
    return members


def _shared(addresses: QuerySet[HostAddress], kind: str) -> Section:
    """Values of `kind` that more than one host names."""
    keys = list(
        addresses.filter(kind=kind)
        .values("value")
        .annotate(named=Count("id"))
        .filter(named__gt=1)
        .order_by("value")
        .values_list("value", flat=True)
    )
    members = _members(addresses, kind, keys[:MAX_GROUPS])
    return Section([Group(key, members[key]) for key in keys[:MAX_GROUPS]], len(keys))


def _ip_number_conflicts(addresses: QuerySet[HostAddress]) -> Section:
    keys = list(
        addresses.filter(kind=AddressKind.IP)
        .values("value")
        .annotate(named=Count("id"), numbers=Count("host__machine_number", distinct=True))
        .filter(named__gt=1, numbers__gt=1)
        .order_by("value")
        .values_list("value", flat=True)
    )
    members = _members(addresses, AddressKind.IP, keys[:MAX_GROUPS])
    groups = [
        Group(key, members[key], sorted({ref.machine_number or "—" for ref in members[key]}))
        for key in keys[:MAX_GROUPS]
    ]
    return Section(groups, len(keys))


def _number_ip_conflicts(hosts: QuerySet[Host], addresses: QuerySet[HostAddress]) -> Section:
    numbers = list(
        hosts.exclude(machine_number="")
        .values("machine_number")
        .annotate(named=Count("id"))
        .filter(named__gt=1)
        .values_list("machine_number", flat=True)
    )
    rows: list[dict[str, Any]] = [
        dict(row)
        for row in hosts.filter(machine_number__in=numbers)
        .order_by("machine_number", "hostname", "host_id")
        .values("pk", "host_id", "hostname", "unit__path", "machine_number")
    ]
    ips: dict[int, set[str]] = defaultdict(set)
    for host_pk, value in addresses.filter(
        kind=AddressKind.IP, host__in=[row["pk"] for row in rows]
    ).values_list("host_id", "value"):
        ips[host_pk].add(value)
    by_number: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_number[row["machine_number"]].append(row)
    groups = []
    for number, members in sorted(by_number.items()):
        sets = {frozenset(ips[row["pk"]]) for row in members}
        if len(sets) > 1:
            values = sorted(", ".join(sorted(addresses_)) or "—" for addresses_ in sets)
            groups.append(Group(number, [_ref(row, "") for row in members], values))
    return Section(groups[:MAX_GROUPS], len(groups))


def _incomplete(hosts: QuerySet[Host]) -> Section:
    empty = Q()
    for name in ASSET_FIELDS:
        empty |= Q(**{name: ""})
    rows = hosts.filter(empty).order_by("hostname", "host_id")
    shown = rows.values("host_id", "hostname", "unit__path", *ASSET_FIELDS)[:MAX_GROUPS]
    items = [
        Incomplete(_ref(row, ""), [name for name in ASSET_FIELDS if not row[name]]) for row in shown
    ]
    return Section(items, rows.count())


def _neighbours(addresses: QuerySet[HostAddress]) -> Section:
    own = addresses.filter(kind=AddressKind.IP).values("value")
    rows = list(
        addresses.filter(kind__in=(AddressKind.GATEWAY, AddressKind.DNS))
        .exclude(value__in=own)
        .values("value")
        .annotate(
            named_by=Count("host", distinct=True),
            as_gateway=Count("id", filter=Q(kind=AddressKind.GATEWAY)),
            as_dns=Count("id", filter=Q(kind=AddressKind.DNS)),
        )
        .order_by("-named_by", "value")
    )
    items = [
        Neighbour(
            row["value"],
            [
                role
                for role, count in (("gateway", row["as_gateway"]), ("dns", row["as_dns"]))
                if count
            ],
            row["named_by"],
        )
        for row in rows[:MAX_GROUPS]
    ]
    return Section(items, len(rows))


def register(hosts: QuerySet[Host]) -> Register:
    """The register over `hosts` (already scoped)."""
    in_service = hosts.exclude(status=HostStatus.REVOKED)
    addresses = HostAddress.objects.filter(host__in=in_service)
    return Register(
        hosts=in_service.count(),
        duplicate_ips=_shared(addresses, AddressKind.IP),
        duplicate_macs=_shared(addresses, AddressKind.MAC),
        ip_number_conflicts=_ip_number_conflicts(addresses),
        number_ip_conflicts=_number_ip_conflicts(in_service, addresses),
        incomplete=_incomplete(in_service),
        neighbours=_neighbours(addresses),
    )

"""Counting hosts by unit in one GROUP BY, and adding the counts up the unit tree.

The overview, the child-unit ranking and the daily rollup all need the same figures per
subtree. Counting each subtree with its own query would cost one query per unit; instead
hosts are counted once per unit (`counts_by_unit`) and the counts are then summed into every
ancestor in Python (`subtree_totals`), which is cheap because units are few next to hosts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from django.db.models import Count, Q, QuerySet

from agent.protocol.compliance import ComplianceState
from server.accounts.models.units import PATH_SEPARATOR
from server.fleet.models import Host, HostStatus

_COUNTERS = {
    "hosts": Count("id"),
    "compliant": Count("id", filter=Q(compliance=ComplianceState.COMPLIANT.value)),
    "noncompliant": Count("id", filter=Q(compliance=ComplianceState.NONCOMPLIANT.value)),
    "unchecked": Count("id", filter=Q(compliance=ComplianceState.UNCHECKED.value)),
    "silent": Count("id", filter=Q(status=HostStatus.SILENT)),
    "clones": Count("id", filter=Q(clone_suspected_at__isnull=False)),
    "software": Count("id", filter=Q(failing_software=True)),
    "media": Count("id", filter=Q(failing_media=True)),
    "internet": Count("id", filter=Q(failing_internet=True)),
    "asset": Count("id", filter=Q(failing_asset=True)),
}


@dataclass
class HostCounts:
    """Hosts of a unit or subtree (revoked ones excluded: they are out of service)."""

    hosts: int = 0
    compliant: int = 0  # every applicable rule checked and passed
    noncompliant: int = 0  # some rule failed
    unchecked: int = 0  # none failed, some could not be checked (未能检查)
    silent: int = 0
    clones: int = 0
    software: int = 0  # hosts with a failing finding in this category
    media: int = 0
    internet: int = 0
    asset: int = 0

    def add(self, other: HostCounts) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def unknown(self) -> int:
        """Hosts with no full report yet: nobody knows whether they comply."""
        return self.hosts - self.compliant - self.noncompliant - self.unchecked

    @property
    def rate(self) -> float | None:
        """Compliant hosts over all hosts, None without hosts: hosts that could not be
        checked and hosts that never reported count against it."""
        return self.compliant / self.hosts if self.hosts else None


def in_service(hosts: QuerySet[Host]) -> QuerySet[Host]:
    return hosts.exclude(status=HostStatus.REVOKED)


def counts_by_unit(hosts: QuerySet[Host]) -> dict[int, HostCounts]:
    """Per unit id, the counts of `hosts` in service that sit directly on that unit."""
    # Prefixed: an annotation named like a field ("compliant") would shadow it in filters.
    annotations = {f"n_{name}": counter for name, counter in _COUNTERS.items()}
    rows = in_service(hosts).order_by().values("unit_id").annotate(**annotations)
    return {
        row["unit_id"]: HostCounts(**{name: row[f"n_{name}"] for name in _COUNTERS}) for row in rows
    }


def subtree_totals(
    units: Iterable[tuple[int, str]], own: Mapping[int, HostCounts]
) -> dict[int, HostCounts]:
    """Per unit id (of `units`, given as (id, path)), the counts of its whole subtree.

    Ancestors outside `units` are skipped, so passing one subtree's units sums within it.
    """
    unit_list = list(units)
    id_by_path = {path: unit_id for unit_id, path in unit_list}
    totals = {unit_id: HostCounts() for unit_id, _ in unit_list}
    for unit_id, path in unit_list:
        counts = own.get(unit_id)
        if counts is None:
            continue
        parts = path.split(PATH_SEPARATOR)
        for depth in range(1, len(parts) + 1):
            ancestor = id_by_path.get(PATH_SEPARATOR.join(parts[:depth]))
            if ancestor is not None:
                totals[ancestor].add(counts)
    return totals

"""The hosts list's filters, search and sort, all read from the query string.

Every number on the overview links here with the filters that reproduce it, so the parsing
is strict about values (an unknown choice is ignored, never an error) and a unit outside the
user's scope answers 404 like everywhere else. `apply` only narrows a queryset that is
already scoped (`access.hosts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest, QueryDict

from server.accounts.models import Unit
from server.dashboard import access
from server.dashboard.labels import CATEGORIES, COMPLIANCE, FINDING_STATUSES, STATUS_FILTERS
from server.fleet.identity import ASSET_FIELDS
from server.fleet.models import AddressKind, Host, HostAddress, HostStatus, LatestFinding
from server.fleet.state import CATEGORY_FLAGS

PAGE_SIZE = 50
MAX_SEARCH = 100
INSTALLED_CHOICES = ("yes", "no", "any")  # any: every host reporting the required rule
RUNNING_CHOICES = ("yes", "no")
SORTS: dict[str, tuple[str, ...]] = {
    "hostname": ("hostname", "host_id"),
    "unit": ("unit__path", "hostname"),
    "machine_number": ("machine_number", "hostname"),
    "responsible_person": ("responsible_person", "hostname"),
    "status": ("status", "hostname"),
    "failed": ("failed_count", "hostname"),
    "policy": ("policy_id", "policy_version", "hostname"),
    "last_seen": ("last_seen", "hostname"),
}
_MAC = re.compile(r"^[0-9a-fA-F]{2}([-:.]?[0-9a-fA-F]{2}){5}$")


def _choice(query: QueryDict, name: str, allowed: Any) -> str:
    value = query.get(name, "")
    return value if value in allowed else ""


def mac_form(text: str) -> str:
    """ "52-54-00-12-34-56" or "525400123456" as agents write MACs: "52:54:00:12:34:56"."""
    digits = re.sub(r"[^0-9a-fA-F]", "", text).lower()
    return ":".join(digits[index : index + 2] for index in range(0, 12, 2))


@dataclass(frozen=True)
class HostFilters:
    unit: Unit | None = None
    status: str = ""  # in_service | active | silent | revoked | clone
    compliance: str = ""  # compliant | noncompliant | unchecked | unknown
    category: str = ""  # a failing finding in this category
    policy: str = ""  # "<policy id>" or "<policy id>@<version>"
    rule: str = ""  # with finding / installed / running below
    finding: str = ""  # status of `rule`
    installed: str = ""  # yes | no | any (required-software `rule`)
    running: str = ""  # yes | no
    missing: str = ""  # "asset": some asset register field is empty
    q: str = ""
    sort: str = "hostname"  # a SORTS key, "-" in front for descending

    @classmethod
    def from_request(cls, request: HttpRequest) -> HostFilters:
        query = request.GET
        unit = access.unit_or_404(request, query["unit"]) if query.get("unit") else None
        sort = query.get("sort", "hostname")
        return cls(
            unit=unit,
            status=_choice(query, "status", STATUS_FILTERS),
            compliance=_choice(query, "compliance", COMPLIANCE),
            category=_choice(query, "category", CATEGORIES),
            policy=query.get("policy", "").strip()[:140],
            rule=query.get("rule", "").strip()[:64],
            finding=_choice(query, "finding", FINDING_STATUSES),
            installed=_choice(query, "installed", INSTALLED_CHOICES),
            running=_choice(query, "running", RUNNING_CHOICES),
            missing=_choice(query, "missing", ("asset",)),
            q=query.get("q", "").strip()[:MAX_SEARCH],
            sort=sort if sort.lstrip("-") in SORTS else "hostname",
        )

    @property
    def carried(self) -> list[tuple[str, str]]:
        """(name, value) of the filters in use that the filter form has no field for: they
        come from overview links and must survive a change of the form's fields."""
        names = ("rule", "finding", "installed", "running", "missing")
        return [(name, getattr(self, name)) for name in names if getattr(self, name)]

    def apply(self, hosts: QuerySet[Host]) -> QuerySet[Host]:
        if self.unit is not None:
            hosts = hosts.filter(access.subtree_q(self.unit))
        hosts = self._by_state(hosts)
        if self.policy:
            policy_id, _, version = self.policy.partition("@")
            hosts = hosts.filter(policy_id=policy_id)
            if version:
                hosts = hosts.filter(policy_version=version)
        if self.rule:
            hosts = hosts.filter(Exists(self._rule_findings()))
        if self.missing == "asset":
            empty = Q()
            for name in ASSET_FIELDS:
                empty |= Q(**{name: ""})
            hosts = hosts.filter(empty)
        if self.q:
            hosts = hosts.filter(self._search())
        return hosts.order_by(*self._ordering())

    def _by_state(self, hosts: QuerySet[Host]) -> QuerySet[Host]:
        if self.status == "clone":  # counted among hosts in service, as the overview does
            hosts = hosts.filter(clone_suspected_at__isnull=False).exclude(
                status=HostStatus.REVOKED
            )
        elif self.status == "in_service":
            hosts = hosts.exclude(status=HostStatus.REVOKED)
        elif self.status:
            hosts = hosts.filter(status=self.status)
        elif self.compliance or self.category or self.rule or self.missing:
            # The figures that link here leave revoked hosts out; so do the lists.
            hosts = hosts.exclude(status=HostStatus.REVOKED)
        if self.compliance == "unknown":
            hosts = hosts.filter(compliance__isnull=True)
        elif self.compliance:
            hosts = hosts.filter(compliance=self.compliance)
        if self.category:
            hosts = hosts.filter(**{CATEGORY_FLAGS[self.category]: True})
        return hosts

    def _rule_findings(self) -> QuerySet[LatestFinding]:
        rows = LatestFinding.objects.filter(host=OuterRef("pk"), rule=self.rule)
        if self.finding:
            rows = rows.filter(status=self.finding)
        if self.installed or self.running:  # the overview's rates count these rows only
            rows = rows.filter(required=True)
        if self.installed in ("yes", "no"):
            rows = rows.filter(installed=self.installed == "yes")
        if self.running:  # "no" is known not to run: not verified is `finding=error`
            rows = rows.filter(running=self.running == "yes")
        return rows

    def _search(self) -> Q:
        text = self.q
        values = [text, mac_form(text)] if _MAC.match(text) else [text]
        on_address = Q()
        for value in values:
            on_address |= Q(value__icontains=value)
        addresses = HostAddress.objects.filter(
            on_address, kind__in=(AddressKind.IP, AddressKind.MAC)
        ).values("host_id")
        return (
            Q(host_id=text)
            | Q(hostname__icontains=text)
            | Q(fqdn__icontains=text)
            | Q(machine_number__icontains=text)
            | Q(responsible_person__icontains=text)
            | Q(pk__in=addresses)
        )

    def _ordering(self) -> list[OrderBy]:
        descending = self.sort.startswith("-")
        names = SORTS[self.sort.lstrip("-")]
        first = (
            F(names[0]).desc(nulls_last=True) if descending else F(names[0]).asc(nulls_first=True)
        )
        return [first, *(F(name).asc() for name in names[1:]), F("id").asc()]

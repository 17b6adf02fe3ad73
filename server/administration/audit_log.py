"""Which audit entries a user may read, and the chain's verification status.

An entry carries no unit column; it names its target (a unit path, a host id, "token:<n>",
"rectification:<n>", ...) and most entries carry the unit path in `details.unit`. A user
other than a superuser reads the entries whose target is a unit or host they see, whose
`details.unit` is a unit they see, and their own. Entries about no unit (a policy text
uploaded by someone else, users created on the command line) stay with the superusers.

Verifying the chain reads every entry; the result is kept for a minute per newest entry id,
so a busy audit page does not re-hash a long log on every view, while any new entry (or a
minute passing) verifies again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT

from server.accounts import scope
from server.accounts.audit import verify_chain
from server.accounts.models import AuditEntry
from server.fleet.models import Host

CHAIN_CACHE_SECONDS = 60


def visible_entries(user: User | AnonymousUser) -> QuerySet[AuditEntry]:
    if not isinstance(user, User) or not user.is_active:
        return AuditEntry.objects.none()
    if user.is_superuser:
        return AuditEntry.objects.all()
    units = scope.units_visible_to(user)
    paths = units.values("path")
    host_ids = Host.objects.filter(unit__in=units).values("host_id")
    return AuditEntry.objects.annotate(detail_unit=KT("details__unit")).filter(
        Q(target__in=paths)
        | Q(target__in=host_ids)
        | Q(detail_unit__in=paths)
        | Q(actor=f"user:{user.get_username()}")
    )


@dataclass(frozen=True)
class ChainStatus:
    intact: bool
    broken_at: int | None
    entries: int
    head_id: int | None


def chain_status() -> ChainStatus:
    head = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    key = f"custos:audit-chain:{head}"
    cached = cache.get(key)
    if isinstance(cached, ChainStatus):
        return cached
    broken = verify_chain()
    status = ChainStatus(broken is None, broken, AuditEntry.objects.count(), head)
    cache.set(key, status, CHAIN_CACHE_SECONDS)
    return status

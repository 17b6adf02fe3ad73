"""Which units a user may see: the one helper every dashboard query goes through.

A superuser sees every unit. Anyone else sees the subtrees of the units they hold a role on
(admin or auditor), and nothing else; an anonymous or inactive user sees nothing. Subtrees
are prefix matches on the materialised path, so this is one indexed query.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Q, QuerySet

from server.accounts.models import Membership, Role, Unit
from server.accounts.models.units import PATH_SEPARATOR

M = TypeVar("M", bound=models.Model)
AnyUser = User | AnonymousUser


def _subtrees(paths: list[str]) -> QuerySet[Unit]:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path=path) | Q(path__startswith=path + PATH_SEPARATOR)
    return Unit.objects.filter(condition)


def _member_units(user: AnyUser, roles: tuple[str, ...]) -> QuerySet[Unit]:
    if not isinstance(user, User) or not user.is_active:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    paths = Membership.objects.filter(user=user, role__in=roles).values_list(
        "unit__path", flat=True
    )
    return _subtrees(list(paths))


def units_visible_to(user: AnyUser) -> QuerySet[Unit]:
    """Every unit the user may read."""
    return _member_units(user, (Role.ADMIN, Role.AUDITOR))


def units_administered_by(user: AnyUser) -> QuerySet[Unit]:
    """Every unit the user may act on (tokens, policies, commands)."""
    return _member_units(user, (Role.ADMIN,))


def restrict(queryset: QuerySet[M], user: AnyUser, unit_field: str) -> QuerySet[M]:
    """`queryset` narrowed to rows whose `unit_field` (e.g. "unit", "host__unit") is visible."""
    return queryset.filter(**{f"{unit_field}__in": units_visible_to(user)})

"""Scoping for the dashboard's pages, on top of `server.accounts.scope`.

Every host, finding, unit and rectification a page shows is reached from one of these
helpers, which all start from `scope.units_visible_to` (as `scope.restrict` does): what is outside
the user's subtrees is filtered out of lists and answers 404 when asked for by id, exactly
like something that does not exist.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from server.accounts import scope
from server.accounts.models import Unit
from server.accounts.models.units import PATH_SEPARATOR
from server.fleet.models import Host, LatestFinding
from server.lib.ids import parse_id


def user_of(request: HttpRequest) -> User | AnonymousUser:
    user = request.user
    return user if isinstance(user, User) else AnonymousUser()


def visible_units(request: HttpRequest) -> QuerySet[Unit]:
    """`scope.units_visible_to` for the request's user, worked out once per request (it
    reads the user's memberships); every page query below filters by it."""
    cached: QuerySet[Unit] | None = getattr(request, "_custos_visible_units", None)
    if cached is None:
        cached = scope.units_visible_to(user_of(request))
        setattr(request, "_custos_visible_units", cached)  # noqa: B010  (not a declared field)
    return cached.all()


def tops_of(units: QuerySet[Unit]) -> list[Unit]:
    """The units of `units` with no unit of `units` above them: where subtrees start."""
    rows = list(units.order_by("path").only("id", "name", "path", "parent_id"))
    ids = {unit.pk for unit in rows}
    return [unit for unit in rows if unit.parent_id not in ids]


def top_units(request: HttpRequest) -> list[Unit]:
    """The visible units with no visible unit above them: where the user's view starts."""
    return tops_of(visible_units(request))


def unit_or_404(request: HttpRequest, unit_id: object) -> Unit:
    pk = parse_id(unit_id)
    if pk is None:
        raise Http404("no such unit")
    unit = visible_units(request).filter(pk=pk).first()
    if unit is None:
        raise Http404("no such unit")
    return unit


def subtree_q(unit: Unit, field: str = "unit") -> Q:
    """Rows whose `field` (a Unit relation) is `unit` or below it."""
    return Q(**{f"{field}__path": unit.path}) | Q(
        **{f"{field}__path__startswith": unit.path + PATH_SEPARATOR}
    )


def subtree_units(unit: Unit) -> QuerySet[Unit]:
    """`unit` and every unit below it."""
    return Unit.objects.filter(Q(path=unit.path) | Q(path__startswith=unit.path + PATH_SEPARATOR))


def hosts(request: HttpRequest) -> QuerySet[Host]:
    """Hosts on visible units: `scope.restrict(Host.objects, user, "unit")`."""
    return Host.objects.filter(unit__in=visible_units(request))


def findings(request: HttpRequest) -> QuerySet[LatestFinding]:
    """Findings of hosts on visible units: `scope.restrict(..., "host__unit")`."""
    return LatestFinding.objects.filter(host__unit__in=visible_units(request))


def host_or_404(request: HttpRequest, host_id: str) -> Host:
    host = hosts(request).filter(host_id=host_id).select_related("unit").first()
    if host is None:
        raise Http404("no such host")
    return host


def administers(request: HttpRequest, unit: Unit | None = None) -> bool:
    """Whether the user may act (admin role or superuser) on `unit`, or anywhere."""
    units = scope.units_administered_by(user_of(request))
    if unit is not None:
        return units.filter(pk=unit.pk).exists()
    cached: bool | None = getattr(request, "_custos_administers", None)
    if cached is None:
        cached = units.exists()
        setattr(request, "_custos_administers", cached)  # noqa: B010  (not a declared field)
    return cached

"""Pages: devices seen on the units' networks (网内未注册设备 by default), marking one as
known infrastructure or taking that back, and importing a lease file or switch table.

Reading is scoped like every dashboard page (`server.dashboard.access`): a device of a unit
outside the user's subtrees does not exist for them (404). Acting needs the admin role on the
device's unit, or on the unit an import goes to (403 otherwise), and is audit-logged.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from server.accounts import scope
from server.accounts.actors import actor_names
from server.administration.access import actor, require_admin_of
from server.dashboard import access
from server.errors import AdminError
from server.sightings import imports, listing
from server.sightings.forms import ImportForm, KnownForm
from server.sightings.importing import import_file
from server.sightings.known import mark_known, unmark
from server.sightings.labels import FORMAT_LABELS, KNOWN_LABELS, SHOW_LABELS, SORT_LABELS
from server.sightings.models import Device, ImportFormat, SightingImport

PAGE_SIZE = 50
RECENT_IMPORTS = 10


def _devices(request: HttpRequest) -> QuerySet[Device]:
    return Device.objects.filter(unit__in=access.visible_units(request))


def _choice(value: str | None, choices: dict[str, Any], default: str) -> str:
    return value if value in choices else default


@login_required
@require_GET
def devices(request: HttpRequest) -> HttpResponse:
    unit = access.unit_or_404(request, request.GET["unit"]) if request.GET.get("unit") else None
    show = _choice(request.GET.get("show"), SHOW_LABELS, "unregistered")
    sort = _choice(request.GET.get("sort"), SORT_LABELS, "new")
    q = request.GET.get("q", "")[:100]
    found = _devices(request)
    if unit is not None:
        found = found.filter(access.subtree_q(unit))
    found = listing.search(listing.shown(found, show), q)
    ordered = found.select_related("unit").order_by(*listing.SORTS[sort])
    page = Paginator(ordered, PAGE_SIZE).get_page(request.GET.get("page"))
    admin_unit_ids = set(
        scope.units_administered_by(access.user_of(request)).values_list("pk", flat=True)
    )
    rows = listing.rows_for(list(page.object_list))
    names = actor_names(row.device.known_by for row in rows if row.device.known_by)
    return render(
        request,
        "sightings/devices.html",
        {
            "unit": unit,
            "units": access.visible_units(request).only("id", "path"),
            "show": show,
            "sort": sort,
            "q": q,
            "shows": SHOW_LABELS,
            "sorts": SORT_LABELS,
            # Translated once, not once per row.
            "known_choices": [(code, str(label)) for code, label in KNOWN_LABELS.items()],
            "here": request.get_full_path(),
            # URL prefixes reversed once: a page has 50 rows and up to 150 host links.
            "device_base": reverse("sightings:devices"),
            "host_base": reverse("dashboard:hosts"),
            "page": page,
            "rows": [(row, names.get(row.device.known_by, "")) for row in rows],
            "admin_unit_ids": admin_unit_ids,
            "known_form": KnownForm(),
        },
    )


def _device_or_404(request: HttpRequest, pk: int) -> Device:
    device = _devices(request).filter(pk=pk).select_related("unit").first()
    if device is None:
        raise Http404("no such device")
    return device


def _back(request: HttpRequest) -> HttpResponse:
    """To the list the form was on (a local path only), else the default list."""
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return redirect(target)
    return redirect("sightings:devices")


@login_required
@require_POST
def known(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device_or_404(request, pk)
    require_admin_of(request, device.unit)
    form = KnownForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what the device is."))
        return _back(request)
    mark_known(
        device, form.cleaned_data["kind"], form.cleaned_data["note"], actor(request), timezone.now()
    )
    messages.success(request, _("%(mac)s is marked as known.") % {"mac": device.mac})
    return _back(request)


@login_required
@require_POST
def unknown(request: HttpRequest, pk: int) -> HttpResponse:
    device = _device_or_404(request, pk)
    require_admin_of(request, device.unit)
    unmark(device, actor(request), timezone.now())
    messages.success(request, _("%(mac)s is no longer marked as known.") % {"mac": device.mac})
    return _back(request)


def _import_context(request: HttpRequest, form: ImportForm) -> dict[str, Any]:
    user = access.user_of(request)
    admin_units = list(scope.units_administered_by(user).order_by("path").only("id", "path"))
    recent = list(
        SightingImport.objects.filter(unit__in=access.visible_units(request))
        .select_related("unit")
        .order_by("-imported_at", "-pk")[:RECENT_IMPORTS]
    )
    names = actor_names(item.imported_by for item in recent)
    return {
        "form": form,
        "admin_units": admin_units,
        "formats": FORMAT_LABELS,
        "recent": [(item, names.get(item.imported_by, item.imported_by)) for item in recent],
        "max_megabytes": imports.MAX_FILE_BYTES // 2**20,
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "sightings/import.html", _import_context(request, ImportForm()))
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "sightings/import.html", _import_context(request, form), status=400)
    unit = access.unit_or_404(request, form.cleaned_data["unit"])
    require_admin_of(request, unit)
    upload = form.cleaned_data["file"]
    if upload.size > imports.MAX_FILE_BYTES:
        form.add_error("file", _("The file is too large."))
        return render(request, "sightings/import.html", _import_context(request, form), status=400)
    try:
        result = import_file(
            unit,
            ImportFormat(form.cleaned_data["import_format"]),
            upload.read(),
            file_name=upload.name or "",
            source=form.cleaned_data["source"],
            actor=actor(request),
            now=timezone.now(),
        )
    except AdminError as exc:
        form.add_error(None, str(exc))
        return render(request, "sightings/import.html", _import_context(request, form), status=400)
    context = _import_context(request, ImportForm())
    context.update({"result": result, "imported_unit": unit})
    return render(request, "sightings/import.html", context, status=201)

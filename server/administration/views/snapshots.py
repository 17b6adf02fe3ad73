"""Snapshots from the dashboard: an admin or auditor downloads the signed snapshot of a unit
subtree they can see (docs/snapshots.md), the same file `custos-server snapshot create`
writes.

The GET page lists the user's visible units and the server key's fingerprint (which the
auditor compares with the one the unit publishes). The POST builds the snapshot into a
temporary directory, audit-logs it under the user ("snapshot.create", delivered as a
download) and sends it; the directory is removed first, so nothing is left on the server.
Reading is enough: auditors pull snapshots (design.md, Roles), so no admin role is needed,
only the unit in the user's scope (404 otherwise, as for any object out of scope).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from server.administration.access import actor
from server.dashboard.access import unit_or_404, visible_units
from server.lib.server_key import current_server_key
from server.snapshots.bundle import fingerprint, raw_public_key
from server.snapshots.create import create_snapshot


def _download_name(unit_name: str, created_at: str) -> str:
    day = created_at[:10]
    return f"custos-snapshot-{unit_name}-{day}.zip"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def snapshots(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(
            request,
            "administration/snapshots.html",
            {
                "units": visible_units(request).order_by("path"),
                "fingerprint": fingerprint(raw_public_key(current_server_key())),
            },
        )
    unit = unit_or_404(request, request.POST.get("unit", ""))
    with tempfile.TemporaryDirectory(prefix="custos-snapshot-") as folder:
        path = Path(folder) / "snapshot.zip"
        created = create_snapshot(
            unit, path, actor(request), now=timezone.now(), delivered_as="download"
        )
        data = path.read_bytes()
    response = HttpResponse(data, content_type="application/zip")
    name = _download_name(unit.name, created.created_at)
    disposition = content_disposition_header(as_attachment=True, filename=name)
    response["Content-Disposition"] = disposition or "attachment"
    response["X-Custos-Snapshot-SHA256"] = created.sha256
    return response

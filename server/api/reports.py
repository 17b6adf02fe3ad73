"""POST /api/v1/reports: one signed envelope in, an acknowledgement by seq out."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from server.api.bodies import read_body
from server.api.guard import agent_endpoint
from server.fleet.ingest import ingest


@agent_endpoint("POST")
def reports_view(request: HttpRequest) -> HttpResponse:
    limit = settings.CUSTOS_MAX_REPORT_BYTES
    ack = ingest(read_body(request, limit), timezone.now(), limit)
    return JsonResponse(ack.as_json())

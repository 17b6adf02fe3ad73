from __future__ import annotations

from django.urls import path

from server.api.documents import commands_view, policy_view
from server.api.enroll import enroll_view
from server.api.openapi import openapi_view
from server.api.reports import reports_view

urlpatterns = [
    path("enroll", enroll_view, name="api-enroll"),
    path("reports", reports_view, name="api-reports"),
    path("policy", policy_view, name="api-policy"),
    path("commands", commands_view, name="api-commands"),
    path("openapi.json", openapi_view, name="api-openapi"),
]

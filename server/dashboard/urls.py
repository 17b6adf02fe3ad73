"""Dashboard URLs (names agreed with the other dashboard apps: overview, hosts, host,
violations, assets)."""

from __future__ import annotations

from django.urls import URLPattern, path

from server.dashboard.views.assets import assets
from server.dashboard.views.host_detail import host_detail
from server.dashboard.views.hosts import hosts
from server.dashboard.views.overview import overview
from server.dashboard.views.violations import violations

app_name = "dashboard"
urlpatterns: list[URLPattern] = [
    path("", overview, name="overview"),
    path("units/<int:unit_id>/", overview, name="overview"),
    path("hosts/", hosts, name="hosts"),
    path("hosts/<str:host_id>/", host_detail, name="host"),
    path("violations/", violations, name="violations"),
    path("assets/", assets, name="assets"),
]

"""URLs: the agent API under /api/v1/, /healthz, and the dashboard: sign-in (/login/,
/logout/), language switch (/i18n/setlang/), Django admin (/admin/) and the apps' pages."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from server.api.health import health_view

urlpatterns = [
    path("api/v1/", include("server.api.urls")),
    path("", include("server.accounts.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("server.dashboard.urls")),
    path("", include("server.rectification.urls")),
    path("", include("server.administration.urls")),
    path("", include("server.alerts.urls")),
    path("", include("server.sightings.urls")),
    path("healthz", health_view, name="healthz"),
]

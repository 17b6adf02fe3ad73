"""URLs of the alerts app. The settings page itself is `administration:alerts` (the name the
dashboard links to); this namespace holds the personal language preference."""

from __future__ import annotations

from django.urls import URLPattern, path

from server.alerts.views import language

app_name = "alerts"
urlpatterns: list[URLPattern] = [
    path("alerts/language/", language, name="language"),
]

"""URLs of the network-devices pages (网内未注册设备)."""

from __future__ import annotations

from django.urls import URLPattern, path

from server.sightings import views

app_name = "sightings"
urlpatterns: list[URLPattern] = [
    path("network-devices/", views.devices, name="devices"),
    path("network-devices/<int:pk>/known/", views.known, name="known"),
    path("network-devices/<int:pk>/unknown/", views.unknown, name="unknown"),
    path("network-devices/import/", views.import_view, name="import"),
]

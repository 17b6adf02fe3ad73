"""URLs of the rectification app (names agreed with the dashboard: list, detail, issue,
print, spot_checks; close and spot_check are this app's own)."""

from __future__ import annotations

from django.urls import URLPattern, path

from server.rectification.views import notices, spot_checks

app_name = "rectification"
urlpatterns: list[URLPattern] = [
    path("rectifications/", notices.notice_list, name="list"),
    path("rectifications/new/", notices.issue, name="issue"),
    path("rectifications/<int:pk>/", notices.notice_detail, name="detail"),
    path("rectifications/<int:pk>/close/", notices.close, name="close"),
    path("rectifications/<int:pk>/print/", notices.print_notice, name="print"),
    path("spot-checks/", spot_checks.spot_checks, name="spot_checks"),
    path("spot-checks/<int:pk>/", spot_checks.spot_check, name="spot_check"),
]

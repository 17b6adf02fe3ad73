"""URLs of the administration app (names agreed with the dashboard: policies, policy,
tokens, audit, alerts; policy_assign, token_revoke and snapshots are this app's own). The alert
settings view lives in the alerts app, under this namespace's agreed name."""

from __future__ import annotations

from django.urls import URLPattern, path

from server.administration.views import audit, policies, snapshots, tokens
from server.alerts.views import alert_settings

app_name = "administration"
urlpatterns: list[URLPattern] = [
    path("policies/", policies.policies, name="policies"),
    path("policies/<int:pk>/", policies.policy_detail, name="policy"),
    path("policies/<int:pk>/assign/", policies.assign, name="policy_assign"),
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.revoke, name="token_revoke"),
    path("audit/", audit.audit_log, name="audit"),
    path("snapshots/", snapshots.snapshots, name="snapshots"),
    path("alerts/", alert_settings, name="alerts"),
]

"""Sign-in and sign-out (names agreed with every dashboard app: accounts:login, :logout)."""

from __future__ import annotations

from django.urls import URLPattern, path

from server.accounts.views import LoginView, LogoutView

app_name = "accounts"
urlpatterns: list[URLPattern] = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]

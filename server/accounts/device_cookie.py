"""The "known device" cookie of the sign-in page (OWASP's device cookies).

After a successful sign-in the browser gets a cookie, signed with the server's secret key,
that names the account and a random device id. A later sign-in to that account that brings
the cookie comes from a device the account's owner used: the throttle then counts its
failures against that device alone, so someone hammering the account from elsewhere (or
from the same office address) cannot lock its owner out. Without the cookie, or with one
for another account, a sign-in is an unknown device's and shares the account's and the
address's limits (server.accounts.throttle).

One cookie holds the devices of the last few accounts signed in from the browser, so that
colleagues sharing a PC keep theirs. It is HttpOnly, sent only to the sign-in page, and
expires after DEVICE_COOKIE_AGE; its signature makes it unforgeable, and it carries no
secret of the account, so a stolen one only lets its thief try passwords at one device's pace.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

COOKIE_NAME = "custos_device"
DEVICE_COOKIE_AGE = dt.timedelta(days=180)
MAX_ACCOUNTS = 5
_SALT = "custos.accounts.device_cookie"


def _entries(request: HttpRequest) -> list[tuple[str, str]]:
    """(account name as the throttle keys it, device id), newest first; [] for a cookie
    that is absent, expired, forged or malformed."""
    value = request.COOKIES.get(COOKIE_NAME)
    if not value:
        return []
    try:
        loaded = signing.loads(value, salt=_SALT, max_age=DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return []
    if not isinstance(loaded, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in loaded
        if isinstance(entry, list)
        and len(entry) == 2
        and all(isinstance(part, str) and part for part in entry)
    ]


def device_of(request: HttpRequest, username: str) -> str:
    """The device id the request's cookie holds for `username` (normalised), or ""."""
    return next((device for name, device in _entries(request) if name == username), "")


def remember(request: HttpRequest, response: HttpResponseBase, username: str) -> str:
    """Put `username`'s device (the one the cookie has, else a new one) first in the cookie."""
    entries = _entries(request)
    device = next((device for name, device in entries if name == username), "")
    device = device or secrets.token_hex(16)
    kept = [(username, device)] + [entry for entry in entries if entry[0] != username]
    value = signing.dumps([list(entry) for entry in kept[:MAX_ACCOUNTS]], salt=_SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        path=reverse("accounts:login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return device

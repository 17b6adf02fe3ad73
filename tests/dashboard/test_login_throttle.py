"""The sign-in throttle under attack: guessing is slowed, the account's owner still signs in.

Attacks, each through the real sign-in page: look-alike spellings of a name (full-width,
mathematical letters) that the sign-in form normalises to the account's name; hundreds of
attempts at one account from one address, and from a hundred addresses; one address (a
shared proxy) trying many names; and a forged X-Forwarded-For. Throughout, the owner signs in
from another address, or from the same one with the known-device cookie their browser got
at an earlier sign-in (server.accounts.device_cookie).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from server.accounts import device_cookie, throttle
from server.accounts.models import AuditEntry, LoginFailure
from tests.dashboard.seed import PASSWORD, page_text

pytestmark = pytest.mark.server

OWNER_ADDRESS = "10.20.0.7"
ATTACKER = "10.66.0.66"


@pytest.fixture(autouse=True)
def quick_passwords(settings: Any) -> None:
    """Passwords hashed quickly: these tests make hundreds of sign-in attempts."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def browser(address: str = OWNER_ADDRESS, **headers: str) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en", **headers)


def sign_in(client: Client, username: str, password: str) -> int:
    return int(client.post("/login/", {"username": username, "password": password}).status_code)


def known_device() -> Client:
    """The owner's browser, which signed in (and out) before: it holds the device cookie."""
    client = browser()
    assert sign_in(client, "wang", PASSWORD) == 302
    assert device_cookie.COOKIE_NAME in client.cookies
    client.post("/logout/")
    return client


def throttled_entries() -> list[tuple[str, str]]:
    return [
        (entry.target, entry.details["limit"])
        for entry in AuditEntry.objects.filter(action="user.login_throttled").order_by("id")
    ]


# --- item 1: the name authentication uses ---------------------------------------------------


def test_look_alike_spellings_of_a_name_share_the_accounts_budget(world: Any) -> None:
    """Was: each spelling had a fresh budget, though the form signs them all in as wang."""
    attacker = browser(ATTACKER)
    for spelling in ("ｗａｎｇ", "𝐰𝐚𝐧𝐠", "Wang", " wang ", "ᵂang"):
        assert sign_in(attacker, spelling, "guess") == 200

    assert {row.username for row in LoginFailure.objects.all()} == {"wang"}
    assert sign_in(attacker, "𝑤ang", "guess") == 429
    assert throttled_entries() == [("wang", "pair")]


def test_a_look_alike_spelling_signs_in_as_the_account_it_normalises_to(world: Any) -> None:
    assert sign_in(browser(), "ｗａｎｇ", PASSWORD) == 302
    assert throttle.normalise_username("ｗａｎｇ") == throttle.normalise_username("wang")


# --- item 2: no lock-out of the owner ---------------------------------------------------------


def test_hundreds_of_attempts_from_one_address_leave_the_owner_free_elsewhere_and_on_a_known_device(
    world: Any,
) -> None:
    """Was: five failures locked the account for everyone for 15 minutes, renewably."""
    device = known_device()
    attacker = browser(ATTACKER)
    answers = [sign_in(attacker, "wang", f"guess {n}") for n in range(300)]

    assert answers[: throttle.PAIR.free] == [200] * throttle.PAIR.free
    assert set(answers[throttle.PAIR.free :]) == {429}
    assert LoginFailure.objects.count() == throttle.PAIR.free  # refusals are not counted
    assert sign_in(browser(OWNER_ADDRESS), "wang", PASSWORD) == 302
    # The owner behind the same address (one office, one NAT) with their known device:
    assert sign_in(Client(REMOTE_ADDR=ATTACKER, **_cookies(device)), "wang", PASSWORD) == 302
    assert sign_in(attacker, "wang", PASSWORD) == 429  # the guesser's address still waits
    assert throttled_entries() == [("wang", "pair")]


def test_hundreds_of_failures_from_many_addresses_leave_the_owners_known_device_free(
    world: Any,
) -> None:
    device = known_device()
    for number in range(100):
        attacker = browser(f"198.51.100.{number + 1}")
        for guess in range(3):
            sign_in(attacker, "wang", f"guess {guess}")

    # Spread out over 100 addresses, 300 attempts: the account's limit stopped the guessing
    # after ACCOUNT.free failures (at most PAIR.free of them counted per address).
    assert LoginFailure.objects.filter(username="wang").count() == throttle.ACCOUNT.free
    # Spread out, the guessing reached the account's limit: unknown devices wait...
    assert sign_in(browser("203.0.113.5"), "wang", PASSWORD) == 429
    # ...and the owner's own browser does not.
    assert sign_in(device, "wang", PASSWORD) == 302
    assert ("wang", "account") in throttled_entries()
    assert throttled_entries().count(("wang", "account")) == 1


def test_one_address_trying_many_names_waits_but_known_devices_behind_it_do_not(
    world: Any,
) -> None:
    """Was: after 30 failures one address was refused for everyone, which behind the
    reverse proxy the docs recommend meant every user."""
    device = known_device()
    proxy = browser(ATTACKER)
    for number in range(throttle.ADDRESS.free):
        assert sign_in(proxy, f"user{number}", "guess") == 200

    assert sign_in(proxy, "li", PASSWORD) == 429
    assert sign_in(Client(REMOTE_ADDR=ATTACKER, **_cookies(device)), "wang", PASSWORD) == 302
    assert sign_in(browser("10.99.0.8"), "li", PASSWORD) == 302
    assert throttled_entries() == [("user29", "address")]


def test_the_wait_doubles_with_each_failure_up_to_the_cap_and_ends_with_the_window(
    world: Any,
) -> None:
    free, first = throttle.PAIR.free, throttle.FIRST_DELAY
    assert throttle.delay(free - 1, free) == dt.timedelta(0)
    assert throttle.delay(free, free) == first
    assert throttle.delay(free + 1, free) == 2 * first
    assert throttle.delay(free + 3, free) == 8 * first
    assert throttle.delay(free + 10_000, free) == throttle.MAX_DELAY

    attempt = throttle.Attempt("wang", ATTACKER)
    now = timezone.now()
    for seconds in range(free + 2):
        throttle.record_failure(attempt, now - dt.timedelta(seconds=seconds))
    assert throttle.wait_seconds(attempt, now) == 4 * first.total_seconds()

    locked = browser(ATTACKER).post("/login/", {"username": "wang", "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 4 * first.total_seconds()
    assert "Too many failed sign-ins" in page_text(locked.content)

    LoginFailure.objects.update(at=now - throttle.WINDOW - dt.timedelta(seconds=1))
    assert sign_in(browser(ATTACKER), "wang", PASSWORD) == 302


def test_failures_on_a_known_device_slow_that_device_only(world: Any) -> None:
    device = known_device()
    for _ in range(throttle.DEVICE.free):
        assert sign_in(device, "wang", "guess") == 200

    assert sign_in(device, "wang", PASSWORD) == 429
    assert sign_in(browser(OWNER_ADDRESS), "wang", PASSWORD) == 302  # no cookie: its own pair
    assert throttled_entries() == [("wang", "device")]


def test_a_device_cookie_counts_only_for_its_own_account_and_only_when_signed(
    world: Any,
) -> None:
    device = known_device()
    attacker = browser(ATTACKER)
    for _ in range(throttle.PAIR.free):
        sign_in(attacker, "wang", "guess")

    # wang's cookie does not make li's sign-in a known device's...
    li_at_attacker = Client(REMOTE_ADDR=ATTACKER, **_cookies(device))
    for _ in range(throttle.PAIR.free):
        sign_in(li_at_attacker, "li", "guess")
    assert sign_in(li_at_attacker, "li", PASSWORD) == 429
    # ...and a cookie made without the server's key is no known device at all.
    forged = signing.dumps([["wang", "f" * 32]], key="not the server's", salt="custos")
    forger = Client(REMOTE_ADDR=ATTACKER, HTTP_COOKIE=f"{device_cookie.COOKIE_NAME}={forged}")
    assert sign_in(forger, "wang", PASSWORD) == 429


def test_a_successful_sign_in_clears_its_pairs_failures_only(world: Any) -> None:
    for _ in range(throttle.PAIR.free - 1):
        sign_in(browser(), "wang", "guess")
    sign_in(browser(ATTACKER), "wang", "guess")

    assert sign_in(browser(), "wang", PASSWORD) == 302
    assert list(LoginFailure.objects.values_list("address", flat=True)) == [ATTACKER]


def _cookies(client: Client) -> dict[str, str]:
    """The browser's device cookie, to send from another client (another address)."""
    return {
        "HTTP_COOKIE": f"{device_cookie.COOKIE_NAME}={client.cookies[device_cookie.COOKIE_NAME].value}"
    }


# --- client addresses behind trusted proxies ----------------------------------------------


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.CUSTOS_TRUSTED_PROXIES = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.250.0.0/16"),
    )


def via_proxy(forwarded_for: str) -> Client:
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    world: Any, behind_proxy: None
) -> None:
    attacker = via_proxy(ATTACKER)
    for number in range(throttle.ADDRESS.free):
        sign_in(attacker, f"user{number}", "guess")

    assert sign_in(attacker, "li", PASSWORD) == 429
    assert sign_in(via_proxy(OWNER_ADDRESS), "li", PASSWORD) == 302
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {ATTACKER}


def test_a_forged_forwarded_for_is_ignored_from_untrusted_peers_and_left_of_the_proxies(
    world: Any, behind_proxy: None
) -> None:
    # Straight to the server, not through the proxy: the header is the client's own words.
    sign_in(browser(ATTACKER, HTTP_X_FORWARDED_FOR=OWNER_ADDRESS), "wang", "guess")
    # Through two proxies: the client wrote the left-most entry, the proxies the rest.
    sign_in(via_proxy(f"{OWNER_ADDRESS}, {ATTACKER}, 10.250.3.4"), "wang", "guess")
    # Not an address: nothing left of it is believed.
    sign_in(via_proxy(f"{OWNER_ADDRESS}, not-an-address"), "wang", "guess")

    assert list(LoginFailure.objects.order_by("id").values_list("address", flat=True)) == [
        ATTACKER,
        ATTACKER,
        "127.0.0.1",
    ]


def test_without_trusted_proxies_the_forwarded_for_header_is_never_read(world: Any) -> None:
    for number in range(throttle.PAIR.free):
        sign_in(browser(ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}"), "wang", "guess")

    assert sign_in(browser(ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.200"), "wang", PASSWORD) == 429

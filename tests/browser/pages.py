"""A person at a browser: one Chromium context (its own cookies, viewport and language) with
everything the page did that a person would not see written down: console messages, script
errors, dialogs, and requests that left the server (none may: intranet, no CDN).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Response,
    Route,
    ViewportSize,
)

from agent import glossary
from tests.browser.world import PASSWORD

# A function, not an expression: the page's CSP forbids the eval an expression would need.
_HTMX_SETTLED = (
    "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
)
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 768, "height": 1024}


@dataclass
class Visitor:
    """The page of one browser context and what it recorded (see the module docstring)."""

    page: Page
    origin: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # requests to other origins, refused
    failed: list[str] = field(default_factory=list)  # responses 400 and above

    # --- what happened ---

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_request(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.origin + "/") or url.startswith("data:"):
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort()

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url} -> {response.status}")

    def csp_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]

    def assert_delivered(self) -> None:
        """Everything the page asked the server for arrived (its CSS and JS included): checked
        as soon as a page is shown, so a missing script fails here, by name, rather than as
        a timeout of whatever that script should have done."""
        assert self.failed == [], "the server did not deliver: " + ", ".join(self.failed)

    def assert_quiet(self) -> None:
        """No script error, no dialog, no CSP violation, nothing fetched from elsewhere, no
        page or file the server failed to deliver (a stylesheet or script included)."""
        assert self.failed == [], self.failed
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.csp_violations() == [], self.csp_violations()
        assert self.elsewhere == [], self.elsewhere

    # --- doing things ---

    def goto(self, path: str) -> None:
        response = self.page.goto(self.origin + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        self.page.wait_for_load_state("networkidle")
        self.assert_delivered()

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        """Through the login form, by its labels, in the page's language."""
        self.page.goto(self.origin + "/login/")
        self.page.wait_for_load_state("networkidle")
        self.assert_delivered()
        language = self.language()
        self.page.get_by_label(translated("User name", language), exact=True).fill(name)
        self.page.get_by_label(translated("Password", language), exact=True).fill(password)
        self.page.get_by_role("button", name=translated("Sign in", language), exact=True).click()
        self.page.wait_for_url(lambda url: "/login/" not in url)

    def language(self) -> str:
        """The page's language as Django names it (the <html lang> the server wrote)."""
        return self.page.locator("html").get_attribute("lang") or "zh-hans"

    def t(self, message: str) -> str:
        """`message` in the language of the page shown now."""
        return translated(message, self.language())

    def term(self, table: glossary.Table, code: str) -> str:
        """The glossary's word for `code` in the language of the page shown now."""
        return glossary.term(table, code, "zh" if self.language().startswith("zh") else "en")

    def text(self, selector: str = "main") -> str:
        """What a person reads in `selector` (rendered text: hidden things are not in it)."""
        return self.page.locator(selector).inner_text()

    def open_details(self) -> None:
        """Open every disclosure (<details>) of the page, as a person clicking through would;
        htmx loads what an opened one fetches."""
        closed = self.page.locator("main details:not([open]) > summary")
        for _ in range(500):  # opening one may reveal more (nested evidence)
            if closed.count() == 0:
                return
            summary = closed.first
            if summary.evaluate("node => node.parentElement.hasAttribute('hx-get')"):
                with self.page.expect_response(lambda r: r.request.resource_type == "xhr"):
                    summary.click()
                self.page.wait_for_function(_HTMX_SETTLED)
            else:
                summary.click()
            self.page.wait_for_load_state("networkidle")
        raise AssertionError("more than 500 disclosures on one page")

    def switch_language(self, code: str) -> None:
        """Choose `code` ("en", "zh-hans") in the header's language select, found by its
        label; it submits itself (base.js)."""
        self.assert_delivered()  # base.js does the submitting
        select = self.page.get_by_label(self.t("Language"), exact=True)
        with self.page.expect_navigation():
            select.select_option(value=code)
        self.page.wait_for_load_state("networkidle")


@contextmanager
def visitor(
    browser: Browser,
    origin: str,
    *,
    viewport: ViewportSize | None = None,
    locale: str = "zh-CN",
) -> Iterator[Visitor]:
    """A fresh browser profile asking for `locale` (Accept-Language), watched."""
    context = browser.new_context(
        viewport=viewport or DESKTOP,
        locale=locale,
        timezone_id="Asia/Shanghai",
        service_workers="block",
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    person = Visitor(page, origin)
    page.on("console", person._on_console)
    page.on("pageerror", lambda error: person.errors.append(str(error)))
    page.on("dialog", person._on_dialog)
    page.on("response", person._on_response)
    context.route("**/*", person._on_request)
    try:
        yield person
    finally:
        context.close()


def translated(message: str, language: str = "zh-hans") -> str:
    """`message` as the server renders it in `language`: the same .mo catalogues, read by
    Django's gettext in this process (a test must not hard-code a translator's wording)."""
    from django.utils import translation

    with translation.override(language):
        return str(translation.gettext(message))

"""The browser suite: Chromium driven through Playwright against pytest-django's live server.

Every test gets a fresh browser context and page. A page that logs a Content-Security-Policy
violation or a JavaScript error fails its test (kehu's CSP: script-src 'self', style-src
'self'). Every test module marks itself ``pytest.mark.browser``. Chromium is the
distribution's (``KEHU_CHROMIUM`` or /usr/bin/chromium); without it the suite is skipped,
except on CI, where it fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests import factories
from tests.conftest import IN_CI, chromium_path, seed_reference_data

TIMEOUT_MS = 10_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The browser asks for English unless a test says otherwise; kehu's default is zh-hans.
DEFAULT_LOCALE = "en-US"

# Chrome's own line for a response with an error status (a 401 on a wrong password, the
# 409 of a conflict, a 404): expected by the tests that provoke it, not a script error.
_HTTP_STATUS_LINE = re.compile(r"^Failed to load resource: the server responded with a status")


# --- Browser ------------------------------------------------------------------------------


class _Chromium:
    """One Chromium for the e2e tests, started by the first and closed after the last.

    Not a session fixture: Playwright's sync API keeps an event loop running in the main
    thread, and the tests that pytest runs after these (``asyncio.run``, Django's async
    checks) must not find it there.
    """

    def __init__(self) -> None:
        self.playwright: Any = None
        self.browser: Any = None
        self.async_unsafe: str | None = None

    def get(self) -> Any:
        if self.browser is None:
            executable = chromium_path()
            if executable is None:
                message = (
                    "Chromium not found (set KEHU_CHROMIUM or install chromium at "
                    "/usr/bin/chromium)."
                )
                if IN_CI:
                    pytest.fail(message)
                pytest.skip(message)
            expect.set_options(timeout=TIMEOUT_MS)
            # Playwright's sync API runs an event loop in this thread; while it does,
            # Django's ORM (factories, assertions, the flush between tests) refuses to run
            # ("You cannot call this from an async context") unless told it may. Only for
            # as long as Chromium runs: a subprocess started by a later test must not
            # inherit it (``check --deploy`` rejects it).
            self.async_unsafe = os.environ.get(ASYNC_UNSAFE)
            os.environ[ASYNC_UNSAFE] = "true"
            self.playwright = sync_playwright().start()
            try:
                self.browser = self.playwright.chromium.launch(
                    executable_path=executable, headless=True, args=CHROMIUM_ARGS
                )
            except BaseException:
                self.stop()
                raise
        return self.browser

    def stop(self) -> None:
        browser, playwright = self.browser, self.playwright
        self.browser = self.playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()
                if self.async_unsafe is None:
                    os.environ.pop(ASYNC_UNSAFE, None)
                else:
                    os.environ[ASYNC_UNSAFE] = self.async_unsafe


_CHROMIUM = _Chromium()


def _is_browser_test(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("browser") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield
    if not _is_browser_test(nextitem):
        _CHROMIUM.stop()
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    _CHROMIUM.stop()  # an interrupted run too


@pytest.fixture
def browser() -> Any:
    return _CHROMIUM.get()


@dataclass
class BrowserErrors:
    """What the pages of one test logged that must fail it."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Any, label: str) -> None:
        def on_console(message: Any) -> None:
            text = message.text
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                self.problems.append(f"[{label}] CSP violation on {page.url}: {text}")
            elif message.type == "error" and not _HTTP_STATUS_LINE.match(text):
                self.problems.append(f"[{label}] console error on {page.url}: {text}")

        def on_page_error(error: Any) -> None:
            self.problems.append(f"[{label}] JavaScript error on {page.url}: {error}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)


_ERRORS_KEY = pytest.StashKey[BrowserErrors]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    errors = item.stash.get(_ERRORS_KEY, None)
    if errors is not None and errors.problems:
        pytest.fail("The browser reported:\n" + "\n".join(errors.problems), pytrace=False)
    return result


@pytest.fixture(autouse=True)
def _seeded_database(transactional_db: None) -> None:
    """Each test starts from the migrated data: the departments and built-in roles of the
    data migration, and the audit chain's head.

    The live server needs a transactional database, and the flush after every such test
    (in this suite or another) removes what migrations wrote. Django's serialized rollback
    cannot put it back once a transactional test without it has run (its flush re-creates
    the content types under new keys), so the data migration's own idempotent seed runs
    again instead.
    """
    seed_reference_data()


@pytest.fixture
def new_page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Callable]:
    """Open a page in a new browser context (own cookies): ``new_page(locale=...)``."""
    errors = BrowserErrors()
    request.node.stash[_ERRORS_KEY] = errors
    contexts: list[Any] = []

    def make(
        *, locale: str = DEFAULT_LOCALE, label: str = "", context: Any = None, **options: Any
    ) -> Any:
        """A page in a new context, or another page in ``context`` (same cookies)."""
        if context is None:
            options.setdefault("viewport", {"width": 1280, "height": 800})
            context = browser.new_context(base_url=live_server.url, locale=locale, **options)
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            contexts.append(context)
        page = context.new_page()
        errors.watch(page, label or f"page {len(contexts)}.{len(context.pages)}")
        return page

    yield make
    for context in contexts:
        # Let a page finish loading first: the live server must not be left serving a
        # request of a closed page when the session ends and it stops.
        for open_page in context.pages:
            # A crashed or closed page has nothing left to wait for.
            with contextlib.suppress(PlaywrightError):
                open_page.wait_for_load_state("load", timeout=TIMEOUT_MS)
        context.close()
    _wait_for_live_server_requests()


def _wait_for_live_server_requests(timeout: float = TIMEOUT_MS / 1000) -> None:
    """Wait until the live server has finished with the closed pages' connections.

    Each connection is served by its own thread, which closes the database connections when
    the browser hangs up. A thread still doing that when the next test flushes the
    database, or when the session ends and the server stops sharing the in-memory SQLite
    connection, fails ("DatabaseWrapper objects created in a thread can only be used in
    that same thread").
    """
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and "process_request_thread" in thread.name:
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def page(new_page: Callable) -> Any:
    return new_page(label="main")


@pytest.fixture
def sign_in_directly(live_server: Any) -> Callable:
    """``sign_in_directly(page, user)``: give the page's context a session of ``user``
    without the login form, for journeys that are not about signing in (so no auth.login
    audit event is written)."""
    from django.conf import settings
    from django.test import Client

    def give_session(page: Any, user: Any) -> None:
        client = Client()
        client.force_login(user, backend="kehu.accounts.backends.KehuBackend")
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return give_session


# --- Helpers --------------------------------------------------------------------------


def tr(message: str, language: str) -> str:
    """``message`` as kehu shows it in ``language`` (the catalogue's text, or the msgid)."""
    from django.utils import translation

    with translation.override(language):
        return translation.gettext(message)


def sign_in(page: Any, identifier: str, password: str = factories.PASSWORD) -> Any:
    """Submit the login form; return the response to the POST."""
    if "/accounts/login/" not in page.url:
        page.goto("/accounts/login/")
    page.fill("#id_identifier", identifier)
    page.fill("#id_password", password)
    return submit(page, "#login-button", "/accounts/login/")


def submit(page: Any, button: str = "#submit-button", url_part: str = "") -> Any:
    """Press a form's submit button; wait until the resulting page (after any redirect)
    has loaded; return the response to the POST."""
    with (
        page.expect_navigation(),
        page.expect_response(lambda r: r.request.method == "POST" and url_part in r.url) as info,
    ):
        page.click(button)
    return info.value


def sign_in_ok(page: Any, identifier: str, password: str = factories.PASSWORD) -> None:
    response = sign_in(page, identifier, password)
    assert response.status == 302, f"sign-in of {identifier!r} answered {response.status}"
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def sign_out(page: Any) -> None:
    page.click("#user-menu")
    page.click("#logout-button")
    page.wait_for_url("**/accounts/login/**")


def open_admin_menu(page: Any, path: str) -> None:
    """Administration → the entry that links to ``path``."""
    page.click("#nav-admin")
    link = page.locator(f'#nav-admin + .dropdown-menu a[href="{path}"]')
    link.wait_for(state="visible")
    link.click()
    page.wait_for_url(f"**{path}")

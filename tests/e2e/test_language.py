"""Journey 2: switching between 简体中文, 繁體中文 and English, before and after signing in.

kehu's own catalogues may not be compiled yet; the expected texts come from gettext in the
same language, so they are the English source until they are, and the test checks visible
text that Django's own catalogues already translate (a required field's message), the
``<html lang>`` attribute and the ``kehu_language`` cookie.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from kehu.accounts.models import User
from tests import factories
from tests.e2e.conftest import sign_in_ok, sign_out, tr

pytestmark = pytest.mark.browser

COOKIE = settings.LANGUAGE_COOKIE_NAME


def language_cookie(page) -> str | None:
    values = [c["value"] for c in page.context.cookies() if c["name"] == COOKIE]
    return values[0] if values else None


def test_language_links_on_the_login_page(page):
    page.goto("/accounts/login/")
    # The browser asks for English; nothing chosen yet.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert language_cookie(page) is None
    buttons = page.locator("#language-links button[name=language]")
    expect(buttons).to_have_text(["简体中文", "繁體中文", "English"])

    required_messages, headings = {}, {}
    for language in ("zh-hant", "en", "zh-hans"):
        with page.expect_navigation():
            page.locator(f'#language-links button[value="{language}"]').click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert "/accounts/login/" in page.url
        assert language_cookie(page) == language
        expect(page.locator(f'#language-links button[value="{language}"]')).to_have_class(
            re.compile(r"\bbtn-secondary\b")
        )
        expect(page.locator("h2")).to_have_text(tr("Sign in to kehu", language))
        headings[language] = page.locator("h2").inner_text()
        expect(page.locator("#login-button")).to_have_text(tr("Sign in", language))

        # A form error in the chosen language.
        page.click("#login-button")
        message = page.locator('[data-error-for="identifier"]')
        expect(message).to_have_text(tr("This field is required.", language))
        required_messages[language] = message.inner_text()

    # The visible text really changed with the language: Django's own messages always,
    # kehu's once its catalogues are compiled.
    assert len(set(required_messages.values())) == 3, required_messages
    if tr("Sign in to kehu", "zh-hans") != "Sign in to kehu":
        assert len(set(headings.values())) == 3, headings

    # The choice survives a new visit (the cookie), whatever the browser asks for.
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h2")).to_have_text(tr("Sign in to kehu", "zh-hans"))


def test_navbar_language_is_remembered_on_the_profile(page, new_page):
    user = factories.user("liuyang", name="刘洋")
    assert user.language == ""
    sign_in_ok(page, "liuyang")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.click("#language-menu")
    with page.expect_navigation():
        page.locator('#language-switch button[value="zh-hant"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(page.locator("#language-menu")).to_have_text(tr("Language", "zh-hant"))
    expect(page.locator('#language-switch button[value="zh-hant"]')).to_have_class(
        re.compile(r"\bactive\b")
    )
    assert language_cookie(page) == "zh-hant"
    user.refresh_from_db()
    assert user.language == "zh-hant"

    sign_out(page)

    # Another browser (no cookie, asking for English): the profile's language wins.
    other = new_page(label="second browser")
    other.goto("/accounts/login/")
    expect(other.locator("html")).to_have_attribute("lang", "en")
    sign_in_ok(other, "liuyang")
    expect(other.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(other.locator("h1")).to_have_text(tr("Welcome, %(name)s", "zh-hant") % {"name": "刘洋"})
    assert language_cookie(other) == "zh-hant"

    # And back to English through the navbar.
    other.click("#language-menu")
    with other.expect_navigation():
        other.locator('#language-switch button[value="en"]').click()
    expect(other.locator("html")).to_have_attribute("lang", "en")
    assert User.objects.get(pk=user.pk).language == "en"
    assert language_cookie(other) == "en"

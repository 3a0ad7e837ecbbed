"""Journey 5: a user changes their password from the user menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in, sign_in_ok, sign_out, tr

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Blue-Teapot-Orbit-77"


def test_change_password_through_the_user_menu(page, new_page, sign_in_directly):
    user = factories.user("sunqi", name="孙七")
    # The same person is also signed in on another device.
    elsewhere = new_page(label="other device")
    sign_in_directly(elsewhere, user)
    elsewhere.goto("/")
    expect(elsewhere.locator("#user-menu")).to_have_text("孙七")
    sign_in_ok(page, "sunqi")

    page.click("#user-menu")
    page.click('#user-menu + .dropdown-menu a[href="/accounts/me/password/"]')
    page.wait_for_url("**/accounts/me/password/")
    page.fill("#id_old_password", factories.PASSWORD)
    page.fill("#id_new_password", NEW_PASSWORD)
    page.fill("#id_new_password_again", NEW_PASSWORD)
    page.click("#submit-button")
    page.wait_for_url("**/accounts/me/")
    expect(page.locator(".alert-success")).to_have_text(tr("Your password has been changed.", "en"))
    # This session goes on.
    page.goto("/")
    expect(page.locator("#user-menu")).to_have_text("孙七")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # Every other session of the user has ended.
    elsewhere.reload()
    elsewhere.wait_for_url("**/accounts/login/**")
    expect(elsewhere.locator("#user-menu")).to_have_count(0)

    sign_out(page)
    assert sign_in(page, "sunqi", factories.PASSWORD).status == 401
    expect(page.locator("#login-form .alert-danger")).to_have_text(
        tr("The username or password is not correct.", "en")
    )
    sign_in_ok(page, "sunqi", NEW_PASSWORD)
    expect(page.locator("#user-menu")).to_have_text("孙七")

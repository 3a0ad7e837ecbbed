"""Journey 1: signing in with a username, an email or a mobile number; wrong passwords;
the lockout; the home page's figures are real counts."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from kehu.accounts.models import Department, Team, User
from kehu.accounts.services import token_revoke
from kehu.core.access import scoped
from kehu.core.permissions import Perm
from tests import factories
from tests.e2e.conftest import sign_in, sign_in_ok, sign_out, tr

pytestmark = pytest.mark.browser

WRONG = "Not-The-Password-1"


def card_value(page, key: str) -> int:
    value = page.locator(f"[data-card={key}] [data-value]")
    expect(value).to_have_count(1)
    return int(value.inner_text().strip().replace(",", ""))


def test_sign_in_with_username_email_and_mobile(page):
    factories.user("zhangsan", name="张三", email="zhang.san@example.com", mobile="13800138000")

    sign_in_ok(page, "zhangsan")
    expect(page.locator("#user-menu")).to_have_text("张三")
    assert page.url.endswith("/")
    sign_out(page)

    # Email: any case.
    sign_in_ok(page, "Zhang.San@Example.com")
    expect(page.locator("#user-menu")).to_have_text("张三")
    sign_out(page)

    # Mobile: as typed by a person, with the country code and separators.
    sign_in_ok(page, "+86 138-0013-8000")
    expect(page.locator("#user-menu")).to_have_text("张三")


def test_wrong_password_is_refused_with_the_translated_message(page):
    factories.user("lisi", name="李四")
    response = sign_in(page, "lisi", WRONG)
    assert response.status == 401
    assert "/accounts/login/" in page.url
    expect(page.locator("#login-form .alert-danger")).to_have_text(
        tr("The username or password is not correct.", "en")
    )
    expect(page.locator("#user-menu")).to_have_count(0)

    # In Chinese (the company default) the same refusal, in that language.
    page.locator('#language-links button[value="zh-hans"]').click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    response = sign_in(page, "lisi", WRONG)
    assert response.status == 401
    expect(page.locator("#login-form .alert-danger")).to_have_text(
        tr("The username or password is not correct.", "zh-hans")
    )


def test_repeated_failures_lock_the_account(page):
    factories.user("wangwu", name="王五", email="wang.wu@example.com", mobile="13700137000")
    limit = settings.KEHU_LOGIN_MAX_FAILURES
    assert limit == 5
    locked_text = tr("Too many failed attempts. This account is locked until %(time)s.", "en")
    locked_prefix = locked_text.split("%(time)s")[0].strip()

    # The failures count per account, whichever of its identifiers was typed.
    identifiers = ["wangwu"] * (limit - 1) + ["wang.wu@example.com"]
    statuses = [sign_in(page, identifier, WRONG).status for identifier in identifiers]
    assert statuses == [401] * (limit - 1) + [429]
    expect(page.locator("#login-form .alert-danger")).to_contain_text(locked_prefix)

    # The right password does not open a locked account, by any identifier.
    for identifier in ("wangwu", "13700137000"):
        response = sign_in(page, identifier)
        assert response.status == 429
        assert "/accounts/login/" in page.url
        expect(page.locator("#login-form .alert-danger")).to_contain_text(locked_prefix)
        expect(page.locator("#user-menu")).to_have_count(0)


def test_home_cards_show_real_counts(page, new_page, sign_in_directly):
    admin = factories.user("admin1", role_code="administrator", name="管理员")
    team = factories.team("华东销售一组", "sales")
    sales = factories.user("owner", role_code="sales", team_obj=team, name="张三")
    factories.user("teammate", role_code="sales", team_obj=team, name="李娜")
    factories.user("gone", role_code="sales", is_active=False)
    Team.objects.filter(pk=factories.team("停用组", "service").pk).update(is_active=False)
    factories.api_token(admin)
    revoked, _secret = factories.api_token(admin)
    token_revoke(actor=admin, token=revoked)

    sign_in_directly(page, admin)
    page.goto("/")
    expect(page.locator("#home-cards")).to_be_visible()
    assert card_value(page, "active_users") == User.objects.filter(is_active=True).count() == 3
    assert card_value(page, "teams") == Team.objects.filter(is_active=True).count() == 1
    assert card_value(page, "departments") == Department.objects.filter(is_active=True).count() == 8
    assert card_value(page, "my_tokens") == 1

    # A salesperson sees only what their role lets them see (own scope: themselves).
    other = new_page(label="sales")
    sign_in_directly(other, sales)
    other.goto("/")
    visible = scoped(sales, Perm.VIEW_USERS, User).filter(is_active=True).count()
    assert card_value(other, "active_users") == visible == 1
    assert card_value(other, "my_tokens") == 0

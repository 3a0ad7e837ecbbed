"""Journey 4: an auditor reads and filters the audit log; a salesperson cannot reach it."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from kehu.accounts.services import user_create
from kehu.core.models import AuditEvent
from tests import factories
from tests.e2e.conftest import open_admin_menu, sign_in_ok

pytestmark = pytest.mark.browser


def shown_actions(page) -> list[str]:
    return [text.strip() for text in page.locator("#audit-table tbody td code").all_inner_texts()]


def test_auditor_sees_and_filters_the_audit_log(page):
    admin = factories.user("admin1", role_code="administrator", name="管理员")
    factories.user("owner", role_code="sales", name="张三")
    factories.user("auditor1", role_code="auditor", name="审计员")
    user_create(actor=admin, username="newcomer", name="新同事")  # user.create

    # Through the real pages (over HTTP, without a browser): a salesperson signs in and
    # out, and someone mistypes a password.
    client = Client()
    login = {"identifier": "owner", "password": factories.PASSWORD}
    assert client.post("/accounts/login/", login).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    assert client.post("/accounts/login/", {**login, "password": "Wrong-1"}).status_code == 401

    sign_in_ok(page, "auditor1")
    open_admin_menu(page, "/audit/")
    expect(page.locator("#audit-table")).to_be_visible()
    everything = list(AuditEvent.objects.order_by("-id").values_list("action", flat=True))
    assert {"auth.login", "auth.logout", "auth.login_failed", "user.create"} <= set(everything)
    assert shown_actions(page) == everything
    logins = page.locator("#audit-table tbody tr", has=page.locator("code", has_text="auth.login"))
    expect(logins.filter(has_text="owner").first).to_be_visible()
    expect(logins.filter(has_text="auditor1").first).to_be_visible()

    # Filter by action: the results are replaced in place and the URL remembers the filter.
    page.fill("#id_action", "auth.login")
    with page.expect_response(
        lambda r: "/audit/?" in r.url and r.request.headers.get("hx-request") == "true"
    ) as htmx:
        page.locator("#audit-filter button[type=submit]").click()
    assert htmx.value.status == 200
    page.wait_for_url("**/audit/?*action=auth.login*")
    expected = list(
        AuditEvent.objects.filter(action__startswith="auth.login")
        .order_by("-id")
        .values_list("action", flat=True)
    )
    expect(page.locator("#audit-table tbody tr")).to_have_count(len(expected))
    actions = shown_actions(page)
    assert actions == expected
    assert all(action.startswith("auth.login") for action in actions)
    assert actions.count("auth.login") == 2  # the salesperson's and the auditor's
    assert "auth.logout" not in actions and "user.create" not in actions

    # The filtered URL is a page of its own.
    page.reload()
    expect(page.locator("#id_action")).to_have_value("auth.login")
    assert shown_actions(page) == expected


def test_salesperson_has_no_audit_log(page, sign_in_directly):
    sales = factories.user("owner", role_code="sales", name="张三")
    sign_in_directly(page, sales)
    page.goto("/")
    expect(page.locator("#user-menu")).to_have_text("张三")
    expect(page.locator("#nav-admin")).to_have_count(0)
    expect(page.locator('a[href="/audit/"]')).to_have_count(0)

    response = page.goto("/audit/")
    assert response is not None and response.status == 404
    expect(page.locator("#error-status")).to_have_text("404")
    expect(page.locator("#audit-table")).to_have_count(0)

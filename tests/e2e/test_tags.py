"""Journey: an administrator tidies the tag vocabulary — renames a misspelt tag, merges two
that mean the same — and the customers follow: the list's search finds them by the new
name, and a customer file shows the change in its history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Tag
from tests import factories
from tests.e2e.conftest import open_admin_menu, submit

pytestmark = pytest.mark.browser


def test_rename_and_merge_tags(page, sign_in_directly):
    admin = factories.user("boss", role_code="administrator", name="老板")
    zhang = factories.customer(admin, "张三", tags=["展会2O26"])  # a letter O for a zero
    factories.customer(admin, "李四", tags=["展会2026", "VIP"])
    factories.customer(admin, "王五", tags=["vip客户"])
    sign_in_directly(page, admin)
    page.goto("/")

    open_admin_menu(page, "/customers/tags/")
    table = page.locator("#tag-table")
    expect(table.locator("tr[data-tag]")).to_have_count(4)
    expect(table.locator('tr[data-tag="VIP"] [data-count]')).to_have_text("1")

    # Rename the misspelt tag to a name that exists: refused, with the way out.
    table.locator('tr[data-tag="展会2O26"] a').first.click()
    page.wait_for_url("**/customers/tags/*/")
    page.fill("#rename-form #id_name", "展会2026")
    assert submit(page, "#rename-button", "/rename/").status == 400
    expect(page.locator('#rename-form [data-error-for="name"]')).to_contain_text("merge")

    # Merge it into the right one instead.
    target = Tag.objects.get(name="展会2026")
    page.select_option("#merge-form #id_target", str(target.pk))
    assert submit(page, "#merge-button", "/merge/").status == 302
    page.wait_for_url(f"**/customers/tags/{target.pk}/")
    expect(page.locator("#tag-name")).to_have_text("展会2026")
    expect(page.locator("#tag-count")).to_contain_text("2")

    # Rename another; the customer list finds its customer by the new name.
    page.goto("/customers/tags/?q=vip")
    expect(page.locator("#tag-table tr[data-tag]")).to_have_count(2)
    page.locator('#tag-table tr[data-tag="vip客户"] a').first.click()
    page.fill("#rename-form #id_name", "重点客户")
    assert submit(page, "#rename-button", "/rename/").status == 302
    expect(page.locator("#tag-name")).to_have_text("重点客户")
    page.goto("/customers/?q=重点客户")
    expect(page.locator("#customer-table tbody tr[data-customer]")).to_have_count(1)
    expect(page.locator("#customer-table")).to_contain_text("王五")

    # The first customer's file shows the merge in its history.
    page.goto(f"/customers/{zhang.pk}/")
    change = page.locator('#history-table tr[data-field="tags"]').first
    expect(change.locator("[data-old]")).to_have_text("展会2O26")
    expect(change.locator("[data-new]")).to_have_text("展会2026")

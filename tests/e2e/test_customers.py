"""Journey 4: a salesperson keeps customer files: creates one, finds it by pinyin initials
with the live search, edits it and reads the change in its history; and takes a customer
from the public pool and gives it back with a reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer, CustomerChange
from tests import factories
from tests.e2e.conftest import submit, tr

pytestmark = pytest.mark.browser

LIST = "/customers/"
POOL = "/customers/pool/"


@pytest.fixture
def salesperson(db):
    return factories.user("xiaowang", role_code="sales", team_obj=factories.team(), name="王小明")


def customer_row(page, customer_id: int):
    return page.locator(f'#customer-table tbody tr[data-customer="{customer_id}"]')


def open_nav(page, path: str) -> None:
    page.locator(f'nav a.nav-link[href="{path}"]').click()
    page.wait_for_url(f"**{path}")


def test_create_find_edit_and_read_the_history(page, salesperson, sign_in_directly):
    other = factories.customer(salesperson, "李娜", city="杭州")
    sign_in_directly(page, salesperson)
    page.goto("/")

    # Customers → New customer.
    open_nav(page, LIST)
    expect(customer_row(page, other.pk)).to_be_visible()
    page.click("#new-customer")
    page.wait_for_url(f"**{LIST}new/")
    form = page.locator("#customer-form")
    form.locator("#id_name").fill("张三")
    form.locator("#id_mobile").fill("13812345678")
    form.locator("#id_city").fill("上海")
    form.locator("#id_tags").fill("VIP，展会2026")
    assert submit(page, url_part=f"{LIST}new/").status == 302
    created = Customer.objects.get(name="张三")
    page.wait_for_url(f"**{LIST}{created.pk}/")
    expect(page.locator("#customer-name")).to_have_text("张三")
    expect(page.locator('#customer-fields [data-field="mobile"]')).to_have_text("138****5678")
    expect(page.locator("#customer-tags [data-tag]")).to_have_count(2)
    assert (created.owner, created.city) == (salesperson, "上海")

    # The live search finds it by its initials, without reloading the page.
    open_nav(page, LIST)
    expect(page.locator("#customer-table tbody tr[data-customer]")).to_have_count(2)
    page.evaluate("window.kehuSamePage = true")
    with page.expect_response(
        lambda r: "q=zs" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.locator('#customer-filter input[name="q"]').fill("zs")
    expect(page.locator("#customer-table tbody tr[data-customer]")).to_have_count(1)
    expect(customer_row(page, created.pk)).to_contain_text("张三")
    expect(customer_row(page, other.pk)).to_have_count(0)
    page.wait_for_url("**q=zs**")  # the search is in the address, for reload and back
    assert page.evaluate("window.kehuSamePage") is True

    # Open it, change the city.
    customer_row(page, created.pk).get_by_role("link", name="张三").click()
    page.wait_for_url(f"**{LIST}{created.pk}/")
    page.click("#edit-customer")
    page.wait_for_url(f"**{LIST}{created.pk}/edit/")
    expect(page.locator("#id_city")).to_have_value("上海")
    page.fill("#id_city", "杭州")
    assert submit(page, url_part="/edit/").status == 302
    page.wait_for_url(f"**{LIST}{created.pk}/")
    expect(page.locator('#customer-fields [data-field="city"]')).to_have_text("杭州")

    # The history says who changed what.
    row = page.locator('#history-table tbody tr[data-field="city"]', has_text="杭州")
    expect(row).to_have_count(1)
    expect(row.locator("[data-old]")).to_have_text("上海")
    expect(row.locator("[data-new]")).to_have_text("杭州")
    expect(row).to_contain_text("王小明")
    created.refresh_from_db()
    assert (created.city, created.version) == ("杭州", 2)


def test_claim_from_the_pool_and_release_it_again(page, salesperson, sign_in_directly):
    pooled = factories.customer(None, "深圳华强电子", city="深圳")
    sign_in_directly(page, salesperson)
    page.goto("/")

    # Public pool → Claim.
    open_nav(page, POOL)
    row = page.locator(f'#pool-table tbody tr[data-customer="{pooled.pk}"]')
    expect(row).to_contain_text("深圳华强电子")
    with page.expect_navigation():
        row.locator(f'[data-claim="{pooled.pk}"]').click()
    page.wait_for_url(f"**{LIST}{pooled.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("深圳华强电子")
    expect(page.locator('#customer-status [data-field="owner"]')).to_have_text("王小明")
    pooled.refresh_from_db()
    assert pooled.owner == salesperson

    # It is in their list now, and no longer in the pool.
    open_nav(page, LIST)
    expect(customer_row(page, pooled.pk)).to_contain_text("深圳华强电子")
    open_nav(page, POOL)
    expect(page.locator(f'#pool-table tbody tr[data-customer="{pooled.pk}"]')).to_have_count(0)

    # Release it with a reason: back in the pool.
    page.goto(f"{LIST}{pooled.pk}/")
    page.fill("#release-form input[name=reason]", "客户暂无需求")
    assert submit(page, "#release-button", "/release/").status == 302
    page.wait_for_url(f"**{LIST}")
    expect(page.locator(".alert-success")).to_contain_text("深圳华强电子")
    expect(customer_row(page, pooled.pk)).to_have_count(0)
    expect(page.locator("#no-customers")).to_have_text(tr("No customers match.", "en"))
    pooled.refresh_from_db()
    assert pooled.owner is None and pooled.pooled_at is not None
    assert CustomerChange.objects.filter(customer=pooled, field="owner").count() == 2

    open_nav(page, POOL)
    expect(page.locator(f'#pool-table tbody tr[data-customer="{pooled.pk}"]')).to_be_visible()

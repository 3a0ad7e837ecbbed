"""Journey: a salesperson records a sale to a walk-in consumer (one product line, paid at
once), finds it in the orders list, opens it and links it to an existing customer; the
order then shows the customer and is among that customer's orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kehu.sales import services
from kehu.sales.models import Order
from tests import factories
from tests.e2e.conftest import submit

pytestmark = pytest.mark.browser

ORDERS = "/sales/orders/"


@pytest.fixture
def salesperson(db):
    return factories.user("xiaowang", role_code="sales", team_obj=factories.team(), name="王小明")


def test_record_a_walk_in_sale_and_link_it_to_a_customer(page, salesperson, sign_in_directly):
    admin = factories.user("boss", role_code="administrator", name="老板")
    tea = services.product_create(
        actor=admin,
        code="TEA-01",
        list_price="113.00",
        tax_rate="0.13",
        name_en="Longjing tea",
        name_zh_hans="龙井茶",
        unit="box",
    )
    customer = factories.customer(salesperson, "上海明珠贸易有限公司", kind="organisation")
    sign_in_directly(page, salesperson)

    # Orders → New walk-in sale.
    page.goto("/")
    page.locator(f'nav a.nav-link[href="{ORDERS}"]').click()
    page.wait_for_url(f"**{ORDERS}")
    expect(page.locator("#no-orders")).to_be_visible()
    page.click("#new-walk-in")
    page.wait_for_url("**/sales/orders/new/**")
    form = page.locator("#order-form")
    expect(form.locator("#walk-in")).to_be_checked()
    form.locator("#id_consumer_label").fill("戴帽子的先生")

    # Rows are added and removed in the page; choosing the product fills price and tax.
    rows = page.locator("#line-rows tr[data-line]")
    expect(rows).to_have_count(5)
    page.click("#add-line")
    expect(rows).to_have_count(6)
    rows.nth(5).locator("[data-remove-line]").click()
    expect(rows).to_have_count(5)
    first = rows.nth(0)
    first.locator("select[data-line-product]").select_option(str(tea.pk))
    expect(first.locator("[data-line-price]")).to_have_value("113.00")
    expect(first.locator("[data-line-tax]")).to_have_value("13")
    first.locator('input[name="line-0-quantity"]').fill("2")
    form.locator("#id_payment_amount").fill("226")
    form.locator("#id_payment_method").select_option("cash")
    assert submit(page, url_part="/orders/new/").status == 302

    order = Order.objects.get()
    page.wait_for_url(f"**/sales/orders/{order.pk}/")
    assert (order.customer, order.total, order.paid_total) == (
        None,
        Decimal("226.00"),
        Decimal("226.00"),
    )
    assert (order.tax_total, order.payment_status) == (Decimal("26.00"), "paid")
    expect(page.locator("#order-customer [data-walk-in]")).to_contain_text("戴帽子的先生")
    expect(page.locator("#totals [data-total]")).to_have_text("¥226.00")
    expect(page.locator("#totals [data-outstanding]")).to_have_text("¥0.00")
    expect(page.locator("#payments tr[data-payment]")).to_have_count(1)

    # The list shows it; open it from there.
    page.locator(f'nav a.nav-link[href="{ORDERS}"]').click()
    page.wait_for_url(f"**{ORDERS}")
    row = page.locator(f'#order-table tr[data-order="{order.pk}"]')
    expect(row.locator("[data-buyer]")).to_contain_text("戴帽子的先生")
    expect(row.locator("[data-total]")).to_have_text("¥226.00")
    row.locator(f'[data-order-link="{order.pk}"]').click()
    page.wait_for_url(f"**/sales/orders/{order.pk}/")

    # Link it to the customer: search, pick, link.
    link = page.locator("#link-customer")
    with page.expect_response(lambda r: "/sales/orders/customers/" in r.url):
        link.locator("#id_link_q").fill("明珠")
    option = link.locator(f'[data-customer-option="{customer.pk}"] input')
    option.check()
    assert submit(page, "#link-button", f"/orders/{order.pk}/link/").status == 302
    page.wait_for_url(f"**/sales/orders/{order.pk}/")
    expect(page.locator(f'#order-customer a[data-customer="{customer.pk}"]')).to_have_text(
        "上海明珠贸易有限公司"
    )
    expect(page.locator("#link-customer")).to_have_count(0)
    order.refresh_from_db()
    assert order.customer == customer and order.linked_at is not None

    # The orders of that customer include it.
    page.goto(f"{ORDERS}?customer={customer.pk}")
    expect(page.locator("#customer-filter")).to_contain_text("上海明珠贸易有限公司")
    expect(page.locator("#order-table tr[data-order]")).to_have_count(1)
    expect(page.locator(f'#order-table tr[data-order="{order.pk}"] [data-buyer] a')).to_have_text(
        "上海明珠贸易有限公司"
    )
    page.locator(f'#order-table tr[data-order="{order.pk}"] [data-buyer] a').click()
    page.wait_for_url(f"**/customers/{customer.pk}/")

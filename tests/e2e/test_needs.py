"""Journey: a salesperson records a customer's need on the customer's file, then finds it
on the Needs page by filtering, with the summary counts following the filter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.needs import services
from kehu.needs.models import Need
from tests import factories
from tests.e2e.conftest import submit

pytestmark = pytest.mark.browser

NEEDS = "/needs/"


@pytest.fixture
def salesperson(db):
    return factories.user("xiaowang", role_code="sales", team_obj=factories.team(), name="王小明")


def test_record_a_need_and_find_it_on_the_needs_page(page, salesperson, sign_in_directly):
    customer = factories.customer(salesperson, "上海明珠贸易有限公司", kind="organisation")
    other = factories.customer(salesperson, "李娜")
    services.need_create(
        actor=salesperson,
        customer=other,
        title="希望48小时内到货",
        domain="production",
        nature="material",
        factor="delivery_speed",
        source="interview",
    )
    sign_in_directly(page, salesperson)

    # On the customer's file: Record a need.
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#no-needs")).to_be_visible()
    page.click("#record-need")
    page.wait_for_url(f"**/needs/customer/{customer.pk}/new/")
    form = page.locator("#need-form")
    form.locator("#id_title").fill("售后上门要提前预约、守时")
    form.locator('input[name="domain"][value="living"]').check()
    form.locator('input[name="nature"][value="spiritual"]').check()
    form.locator("#id_factor").select_option("courtesy")
    form.locator("#id_source").select_option("complaint")
    form.locator("#id_priority").select_option("high")
    assert submit(page, url_part="/new/").status == 302
    page.wait_for_url(f"**/customers/{customer.pk}/#needs")
    need = Need.objects.get(customer=customer)
    item = page.locator(f'#need-list [data-need="{need.pk}"]')
    expect(item).to_contain_text("售后上门要提前预约、守时")
    expect(item.locator('[data-factor="courtesy"]')).to_be_visible()
    assert (need.domain, need.nature, need.author) == ("living", "spiritual", salesperson)

    # The Needs page lists both; filtering by "living" leaves the new one, and the summary
    # counts follow, without reloading the page.
    page.locator(f'nav a.nav-link[href="{NEEDS}"]').click()
    page.wait_for_url(f"**{NEEDS}")
    rows = page.locator("#need-table tbody tr[data-need]")
    expect(rows).to_have_count(2)
    expect(page.locator("#summary-total")).to_have_text("2")
    page.evaluate("window.kehuSamePage = true")
    with page.expect_response(
        lambda r: "domain=living" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.locator("#need-filter #id_domain").select_option("living")
    expect(rows).to_have_count(1)
    expect(page.locator(f'#need-table tr[data-need="{need.pk}"]')).to_contain_text(
        "上海明珠贸易有限公司"
    )
    expect(page.locator("#summary-total")).to_have_text("1")
    expect(
        page.locator('#summary-domain-nature td[data-domain="living"][data-nature="spiritual"]')
    ).to_have_text("1")
    expect(page.locator('#summary-factor tr[data-factor="courtesy"] [data-count]')).to_have_text(
        "1"
    )
    page.wait_for_url("**domain=living**")
    assert page.evaluate("window.kehuSamePage") is True

    # The customer link leads back to the file.
    page.locator(f'#need-table tr[data-need="{need.pk}"] a').click()
    page.wait_for_url(f"**/customers/{customer.pk}/#needs")

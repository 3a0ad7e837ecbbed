"""Journey: a sales manager creates a customer, finds it by its pinyin initials, edits it,
is warned when entering the same person a second time (same mobile), creates it anyway,
merges the two from the list, and the old record's address lands on the survivor."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer, Interaction
from kehu.customers.services import interaction_record
from tests import factories
from tests.e2e.conftest import submit

pytestmark = pytest.mark.browser

LIST = "/customers/"
NEW = "/customers/new/"


@pytest.fixture
def manager(db):
    return factories.user("jingli", role_code="manager", team_obj=factories.team(), name="陈经理")


def test_create_search_edit_duplicate_merge_and_follow_the_old_id(page, manager, sign_in_directly):
    sign_in_directly(page, manager)

    # Create 张三.
    page.goto(NEW)
    form = page.locator("#customer-form")
    form.locator("#id_name").fill("张三")
    form.locator("#id_mobile").fill("13812345678")
    form.locator("#id_city").fill("上海")
    assert submit(page, url_part=NEW).status == 302
    first = Customer.objects.get(name="张三")
    page.wait_for_url(f"**{LIST}{first.pk}/")

    # Find it by its initials.
    page.goto(LIST)
    with page.expect_response(lambda r: "q=zs" in r.url):
        page.locator('#customer-filter input[name="q"]').fill("zs")
    rows = page.locator("#customer-table tbody tr[data-customer]")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="张三").click()
    page.wait_for_url(f"**{LIST}{first.pk}/")

    # Edit it.
    page.click("#edit-customer")
    page.fill("#id_city", "杭州")
    assert submit(page, url_part="/edit/").status == 302
    expect(page.locator('#customer-fields [data-field="city"]')).to_have_text("杭州")
    interaction_record(actor=manager, customer=first, channel="call", summary="第一次来电")

    # Enter the same person again: the live check warns while typing.
    page.goto(NEW)
    form = page.locator("#customer-form")
    form.locator("#id_name").fill("张三丰")
    with page.expect_response(lambda r: "/customers/duplicates/" in r.url):
        form.locator("#id_mobile").fill("138 1234 5678")
    warning = page.locator("#duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning.locator(f'[data-duplicate="{first.pk}"]')).to_contain_text("张三")

    # Saving without "create anyway" keeps asking; with it, the record is created.
    response = submit(page, url_part=NEW)
    assert response.status == 200
    expect(page.locator("#duplicate-warning")).to_be_visible()
    assert Customer.objects.count() == 1
    page.check("#create-anyway")
    assert submit(page, url_part=NEW).status == 302
    second = Customer.objects.get(name="张三丰")
    page.wait_for_url(f"**{LIST}{second.pk}/")

    # Select both on the list and merge the second into the first.
    page.goto(LIST)
    page.check(f'[data-select="{first.pk}"]')
    page.check(f'[data-select="{second.pk}"]')
    page.click("#merge-selected")
    page.wait_for_url("**/customers/merge/**")
    expect(page.locator("#merge-table")).to_contain_text("张三丰")
    page.check(f'[data-target="{first.pk}"]')
    page.fill("#id_reason", "同一个人录了两次")
    assert submit(page, "#merge-button", "/customers/merge/").status == 302
    page.wait_for_url(f"**{LIST}{first.pk}/")
    expect(page.locator("#customer-name")).to_have_text("张三")

    # The old id's page lands on the survivor.
    page.goto(f"{LIST}{second.pk}/")
    page.wait_for_url(f"**{LIST}{first.pk}/")
    expect(page.locator("#customer-name")).to_have_text("张三")
    merged = Customer.all_objects.get(pk=second.pk)
    assert merged.merged_into_id == first.pk and merged.is_deleted
    assert Interaction.objects.filter(customer=first).count() == 1

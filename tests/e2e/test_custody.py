"""Journey: an administrator defines a choice field; a salesperson fills it in on one of
their customers, reveals the customer's masked mobile number (htmx, audited) and reads in
the file's lending book who opened it and who revealed what."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.core.models import AuditEvent
from kehu.customers.models import Customer, CustomField
from tests import factories
from tests.e2e.conftest import open_admin_menu, submit

pytestmark = pytest.mark.browser


@pytest.fixture
def salesperson(db):
    return factories.user("xiaowang", role_code="sales", team_obj=factories.team(), name="王小明")


@pytest.fixture
def administrator(db):
    return factories.user("boss", role_code="administrator", name="管理员")


def test_define_fill_reveal_and_read_the_lending_book(
    new_page, administrator, salesperson, sign_in_directly
):
    customer = factories.customer(
        salesperson, "张三", mobile="13812345678", street="南京西路1266号"
    )

    # The administrator: Administration → Custom fields → New custom field.
    admin = new_page(label="admin")
    sign_in_directly(admin, administrator)
    admin.goto("/")
    open_admin_menu(admin, "/customers/custom-fields/")
    admin.click("#new-custom-field")
    admin.wait_for_url("**/customers/custom-fields/new/")
    form = admin.locator("#custom-field-form")
    form.locator("#id_key").fill("grade")
    form.locator("#id_kind").select_option("choice")
    form.locator("#id_label_en").fill("Grade")
    form.locator("#id_label_zh_hans").fill("客户等级")
    form.locator("#id_label_zh_hant").fill("客戶等級")
    form.locator("#id_choices").fill("Gold\nSilver\nBronze")
    assert submit(admin, url_part="/custom-fields/new/").status == 302
    admin.wait_for_url("**/customers/custom-fields/")
    expect(admin.locator('#custom-field-table tr[data-custom-field="grade"]')).to_contain_text(
        "Grade"
    )
    assert CustomField.objects.get().choices == ["Gold", "Silver", "Bronze"]

    # The salesperson fills it in on their customer.
    page = new_page(label="sales")
    sign_in_directly(page, salesperson)
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator('#customer-fields [data-field="mobile"]')).to_have_text("138****5678")
    expect(page.locator('#customer-fields [data-field="street"]')).to_have_text("南京****")
    page.click("#edit-customer")
    page.wait_for_url(f"**/customers/{customer.pk}/edit/")
    expect(page.locator("label[for=id_custom_grade]")).to_have_text("Grade")
    page.locator("#id_custom_grade").select_option("Silver")
    assert submit(page, url_part="/edit/").status == 302
    page.wait_for_url(f"**/customers/{customer.pk}/")
    expect(page.locator('#custom-fields [data-custom="grade"]')).to_have_text("Silver")
    expect(page.locator('#history-table tr[data-field="custom.grade"]')).to_contain_text("Grade")
    customer.refresh_from_db()
    assert customer.custom == {"grade": "Silver"}

    # Reveal the masked fields: htmx swaps in the clear values, without a reload.
    page.evaluate("window.kehuSamePage = true")
    with page.expect_response(lambda r: r.url.endswith(f"/customers/{customer.pk}/reveal/")):
        page.click("#reveal-button")
    expect(page.locator('#customer-fields [data-field="mobile"]')).to_have_text("+8613812345678")
    expect(page.locator('#customer-fields [data-field="street"]')).to_have_text("南京西路1266号")
    expect(page.locator("#revealed-note")).to_be_visible()
    assert page.evaluate("window.kehuSamePage") is True
    reveals = AuditEvent.objects.filter(action="customer.reveal", object_id=str(customer.pk))
    assert {e.changes["via"][1] for e in reveals} == {"edit", "page"}

    # The owner reads who looked at the file.
    page.click("#access-log-link")
    page.wait_for_url(f"**/customers/{customer.pk}/access/")
    table = page.locator("#access-table")
    expect(table.locator('tr[data-action="customer.view"]').first).to_contain_text("王小明")
    expect(table.locator('tr[data-action="customer.reveal"]')).to_have_count(2)
    expect(table.locator('tr[data-action="customer.reveal"]').first).to_contain_text("Mobile")
    expect(table.locator('tr[data-action="customer.update"]')).to_contain_text("Grade")
    assert Customer.objects.get(pk=customer.pk).mobile == "+8613812345678"

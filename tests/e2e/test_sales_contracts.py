"""Journey: a salesperson records a contract with a customer (terms and liability for
default), uploads the signed PDF, sees it listed, activates the contract, renews it and
lands on the successor, which links back to the contract it renews."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.sales.models import Contract, ContractAttachment
from tests import factories
from tests.e2e.conftest import submit

pytestmark = pytest.mark.browser

LIABILITY = "逾期交货每日按合同金额0.05%支付违约金；\n累计不超过合同金额的10%。"


@pytest.fixture
def salesperson(db):
    return factories.user("xiaowang", role_code="sales", team_obj=factories.team(), name="王小明")


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def test_record_attach_activate_and_renew_a_contract(
    page, salesperson, sign_in_directly, tmp_path, var_dir
):
    customer = factories.customer(salesperson, "上海明珠贸易有限公司", kind="organisation")
    sign_in_directly(page, salesperson)

    # Contracts → New contract → find the customer → the form.
    page.goto("/sales/contracts/")
    expect(page.locator("#no-contracts")).to_be_visible()
    page.click("#new-contract")
    page.wait_for_url("**/sales/contracts/new/")
    page.fill("#id_q", "明珠")
    page.click("#pick-search")
    page.click(f'#customer-choices a[data-customer="{customer.pk}"]')
    page.wait_for_url(f"**/sales/contracts/new/?customer={customer.pk}")
    form = page.locator("#contract-form")
    form.locator("#id_title").fill("2026年度供货合同")
    form.locator("#id_parties").fill("甲方：上海明珠贸易有限公司\n乙方：杭州云杉科技有限公司")
    form.locator("#id_signed_on").fill("2025-12-20")
    form.locator("#id_starts_on").fill("2026-01-01")
    form.locator("#id_ends_on").fill("2026-12-31")
    form.locator("#id_value").fill("120,000.00")
    form.locator("#id_payment_terms").fill("签约后7日内预付30%，验收后付清余款。")
    form.locator("#id_delivery_terms").fill("2026年2月底前分两批交付。")
    form.locator("#id_default_liability").fill(LIABILITY)
    form.locator('input[name="renewal"][value="manual"]').check()
    form.locator("#id_remind_days").fill("30")
    assert submit(page, url_part="/sales/contracts/new/").status == 302
    contract = Contract.objects.get(customer=customer)
    page.wait_for_url(f"**/sales/contracts/{contract.pk}/")
    expect(page.locator("#contract-number")).to_have_text(contract.number)
    expect(page.locator("#contract-status")).to_have_attribute("data-status", "draft")
    liability = page.locator('[data-terms="default_liability"]')
    expect(liability).to_contain_text("累计不超过合同金额的10%")
    expect(liability.locator("br")).to_have_count(1)  # the line break is kept
    expect(page.locator('[data-field="remind_on"]')).to_have_text("2026-12-01")

    # Upload the signed PDF; it is listed with a download link.
    scan = tmp_path / "签字版合同.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    expect(page.locator("#no-attachments")).to_be_visible()
    page.set_input_files("#attach-form input[type=file]", str(scan))
    assert submit(page, "#attach-button", "/attachments/").status == 302
    attachment = ContractAttachment.objects.get(contract=contract)
    item = page.locator(f'#attachment-list [data-attachment="{attachment.pk}"]')
    expect(item).to_contain_text("签字版合同.pdf")
    expect(item.locator("a[data-download]")).to_have_attribute(
        "href", f"/sales/contracts/{contract.pk}/attachments/{attachment.pk}/"
    )
    assert (var_dir / "attachments" / attachment.stored_name).exists()

    # Activate, then renew: the successor opens and links back.
    assert submit(page, "#activate-button", "/status/").status == 302
    expect(page.locator("#contract-status")).to_have_attribute("data-status", "active")
    assert submit(page, "#renew-button", "/renew/").status == 302
    successor = Contract.objects.get(renewed_from=contract)
    page.wait_for_url(f"**/sales/contracts/{successor.pk}/")
    expect(page.locator("#contract-status")).to_have_attribute("data-status", "active")
    expect(page.locator('[data-field="starts_on"]')).to_have_text("2027-01-01")
    expect(page.locator('[data-field="ends_on"]')).to_have_text("2027-12-31")
    expect(page.locator('[data-terms="default_liability"]')).to_contain_text("违约金")
    expect(page.locator("#renews-link")).to_have_text(contract.number)
    page.click("#renews-link")
    page.wait_for_url(f"**/sales/contracts/{contract.pk}/")
    expect(page.locator("#contract-status")).to_have_attribute("data-status", "renewed")
    expect(page.locator("#renewed-by-link")).to_have_text(successor.number)
    expect(page.locator("#renew-button")).to_have_count(0)

    # The list shows both.
    page.goto("/sales/contracts/")
    expect(page.locator("#contract-table tbody tr[data-contract]")).to_have_count(2)

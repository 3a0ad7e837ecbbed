"""Journey: a salesperson imports a GBK CSV: upload → check the guessed mapping and the
preview → dry run → import; the progress bar (htmx polling) reaches 100 % and the
customers are in the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer
from kehu.dataio import services
from kehu.dataio.models import ImportJob
from tests import factories
from tests.dataio.helpers import csv_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def salesperson(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # Jobs wait in the queue until the test runs them, so the page is seen polling.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return factories.user("xiaoli", role_code="sales", team_obj=factories.team(), name="李小丽")


def test_upload_map_dry_run_import_and_see_the_customers(
    page, salesperson, sign_in_directly, tmp_path
):
    path = tmp_path / "客户名单.csv"
    path.write_bytes(
        csv_bytes(
            [["客户名称", "手机号", "城市", "备注"],
             ["张三", "13812345678", "上海", "<b>老客户</b>"],
             ["李娜", "13912345678", "北京", "=1+1"],
             ["坏行", "12345", "", ""]],
            encoding="gbk",
        )
    )  # fmt: skip
    sign_in_directly(page, salesperson)
    page.goto("/")
    page.locator('nav a.nav-link[href="/imports/"]').click()
    page.wait_for_url("**/imports/")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-button")
    page.wait_for_url("**/imports/*/")
    job = ImportJob.objects.get()
    # The guesses are filled in; the first rows are shown.
    expect(page.locator('select[data-column="客户名称"]')).to_have_value("name")
    expect(page.locator('select[data-column="手机号"]')).to_have_value("mobile")
    expect(page.locator('select[data-column="城市"]')).to_have_value("city")
    expect(page.locator("#preview tbody tr")).to_have_count(3)
    expect(page.locator("#preview")).to_contain_text("<b>老客户</b>")  # shown as text

    page.click("#dry-run-button")
    page.wait_for_url(f"**/imports/{job.pk}/")
    expect(page.locator("#import-progress")).to_have_attribute("data-status", "queued")
    services.run_import(job.pk)
    # htmx polls, sees the end and reloads the page: the dry run's result and the mapping.
    expect(page.locator("#import-status")).to_have_text("Finished", timeout=10_000)
    expect(page.locator('[data-counter="created"]')).to_have_text("2")
    expect(page.locator("#rejected-rows tbody tr")).to_have_count(1)
    assert Customer.objects.count() == 0

    page.click("#import-button")
    page.wait_for_url(f"**/imports/{job.pk}/")
    services.run_import(job.pk)
    expect(page.locator("#import-percent")).to_have_text("100 %", timeout=10_000)
    expect(page.locator("#import-bar")).to_have_attribute("value", "100")
    expect(page.locator('[data-counter="rejected"]')).to_have_text("1")
    expect(page.locator("#error-report")).to_be_visible()
    page.click("#see-result")
    page.wait_for_url("**/customers/")
    for customer in Customer.objects.all():
        expect(
            page.locator(f'#customer-table tbody tr[data-customer="{customer.pk}"]')
        ).to_be_visible()
    assert set(Customer.objects.values_list("name", flat=True)) == {"张三", "李娜"}

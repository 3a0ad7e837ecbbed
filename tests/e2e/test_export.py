"""Journey: a manager filters the customer list, saves the filter, applies it again from
the dropdown and exports the filtered list to CSV with the columns they chose. The file has
exactly the filtered customers, mobile numbers masked."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from kehu.core.models import AuditEvent
from kehu.customers.models import SavedFilter
from tests import factories

pytestmark = pytest.mark.browser

LIST = "/customers/"


def rows(page):
    return page.locator("#customer-table tbody tr[data-customer]")


def test_filter_save_apply_and_export_csv(page, sign_in_directly, tmp_path):
    team = factories.team("华东一组")
    manager = factories.user("boss", role_code="manager", team_obj=team, name="赵经理")
    seller = factories.user("seller", role_code="sales", team_obj=team, name="王小明")
    zhang = factories.customer(seller, "张三", stage="active", mobile="13812345678")
    li = factories.customer(seller, "李娜", stage="active", mobile="13900001111")
    factories.customer(seller, "王五", stage="prospect", mobile="13700002222")
    sign_in_directly(page, manager)

    # Filter the list by stage (the list updates in place).
    page.goto(LIST)
    expect(rows(page)).to_have_count(3)
    with page.expect_response(lambda r: "stage=active" in r.url):
        page.select_option("#customer-filter select[name=stage]", "active")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#customer-filter")).not_to_have_class(re.compile("htmx-request"))
    page.wait_for_url("**stage=active**")

    # Save it under a name.
    page.click("#save-filter summary")
    page.fill("#save-filter-name", "杭州客户")
    with page.expect_navigation():
        page.click("#save-filter-button")
    expect(page.locator(".alert-success")).to_contain_text("杭州客户")
    saved = SavedFilter.objects.get(owner=manager)
    assert saved.query == "stage=active"

    # Back to the whole list, then apply the saved filter from the dropdown.
    page.goto(LIST)
    expect(rows(page)).to_have_count(3)
    page.click("#saved-filters-button")
    with page.expect_navigation():
        page.locator(f'#saved-filters [data-saved-filter="{saved.pk}"] a').click()
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#customer-filter select[name=stage]")).to_have_value("active")

    # Export: the filter comes along; choose CSV and two columns.
    with page.expect_navigation():
        page.click("#export-link")
    expect(page.locator("#export-count")).to_contain_text("2")
    page.check("input[name=format][value=csv]")
    for box in page.locator("input[name=columns]").all():
        box.uncheck()
    page.check("input[name=columns][value=name]")
    page.check("input[name=columns][value=mobile]")
    with page.expect_download() as download_info:
        page.click("#export-button")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "export.csv"
    download.save_as(path)

    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert table[0] == ["Name", "Mobile"]
    assert sorted(table[1:]) == sorted([[zhang.name, "138****5678"], [li.name, "139****1111"]])
    event = AuditEvent.objects.get(action="customer.export")
    assert event.row_count == 2 and event.actor == manager
    assert event.changes["filters"] == {"stage": "active"}

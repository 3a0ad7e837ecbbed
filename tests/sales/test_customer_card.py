"""The sales card of the customer file (lifetime totals, latest orders, active contracts,
open opportunities, the New … buttons) and the sales cards of the home page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.accounts.models import Role
from kehu.sales import services
from kehu.sales.choices import ContractStatus
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def sell(actor, customer, amount, when, **fields):
    return services.order_create(
        actor=actor,
        customer=customer,
        ordered_at=when,
        lines=[{"description": "货品", "quantity": "1", "unit_price": amount}],
        **fields,
    )


def figure(page: str, key: str) -> str:
    start = page.index(f'data-sales="{key}">') + len(f'data-sales="{key}">')
    return page[start : page.index("</div>", start)]


@pytest.fixture
def customer_with_sales(owner):
    """Confirmed: 1,000.00 paid in full with 200.00 refunded, and 500.00 unpaid; one
    300.00 order cancelled. Lifetime (net) 1,300.00; paid (net) 800.00; outstanding
    500.00; first order 2026-02-03, last 2026-05-06 (the cancelled one is not counted)."""
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    paid = sell(
        owner,
        customer,
        "1000.00",
        "2026-02-03T10:00:00+08:00",
        payments=[{"amount": "1000", "method": "wechat_pay"}],
    )
    services.order_add_refund(actor=owner, order=paid, amount="200", reason="退货")
    sell(owner, customer, "500.00", "2026-05-06T10:00:00+08:00")
    cancelled = sell(owner, customer, "300.00", "2026-06-01T10:00:00+08:00")
    services.order_cancel(actor=owner, order=cancelled, expected_version=cancelled.version)
    services.contract_create(
        actor=owner,
        customer=customer,
        title="年度供货",
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        value="12000",
        status=ContractStatus.ACTIVE,
    )
    services.contract_create(
        actor=owner,
        customer=customer,
        title="草稿合同",
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        value="1",
    )
    services.opportunity_create(actor=owner, customer=customer, title="二期扩容", amount="5000")
    lost = services.opportunity_create(actor=owner, customer=customer, title="丢了", amount="9")
    services.opportunity_close(
        actor=owner, opportunity=lost, status="lost", reason="价格", expected_version=1
    )
    return customer


def test_card_shows_lifetime_totals_orders_contracts_and_opportunities(owner, customer_with_sales):
    customer = customer_with_sales
    page = signed_in(owner).get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="sales"' in page
    assert figure(page, "orders") == "2"
    assert figure(page, "lifetime_total") == "¥1,300.00"
    assert figure(page, "paid") == "¥800.00"
    assert figure(page, "outstanding") == "¥500.00"
    assert figure(page, "first_order") == "2026-02-03"
    assert figure(page, "last_order") == "2026-05-06"
    assert figure(page, "open_pipeline") == "1 · ¥5,000.00"
    assert figure(page, "active_contracts") == "1"
    orders = customer.orders.all()
    assert page.count("data-order=") == 3  # the cancelled one listed, marked
    for order in orders:
        assert f'href="/sales/orders/{order.pk}/"' in page
    assert "年度供货" in page and "草稿合同" not in page
    assert "二期扩容" in page and "丢了" not in page
    assert f'href="/sales/orders/new/?customer={customer.pk}"' in page
    assert f'href="/sales/opportunities/new/?customer={customer.pk}"' in page
    assert f'href="/sales/contracts/new/?customer={customer.pk}"' in page


def test_only_the_latest_ten_orders(owner):
    customer = factories.customer(owner, "张三")
    start = timezone.now() - timedelta(days=30)
    orders = [sell(owner, customer, "10", start + timedelta(days=n)) for n in range(12)]
    page = signed_in(owner).get(f"/customers/{customer.pk}/").content.decode()
    assert page.count("data-order=") == 10
    assert f'data-order="{orders[-1].pk}"' in page and f'data-order="{orders[0].pk}"' not in page
    assert figure(page, "orders") == "12" and figure(page, "lifetime_total") == "¥120.00"
    assert 'id="all-orders"' in page


def test_card_absent_without_view_sales_and_read_only_without_change(owner, customer_with_sales):
    viewer_role = Role.objects.create(
        code="customer-viewer",
        name_en="Customer viewer",
        name_zh_hans="客户查看",
        name_zh_hant="客戶查看",
        data_scope="all",
        permissions=["customers.view"],
    )
    viewer = factories.user("viewer", role_code=viewer_role.code)
    url = f"/customers/{customer_with_sales.pk}/"
    response = signed_in(viewer).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="sales"' not in page and "¥1,300.00" not in page and 'id="needs"' in page

    reader_role = Role.objects.create(
        code="sales-reader",
        name_en="Sales reader",
        name_zh_hans="销售查看",
        name_zh_hant="銷售查看",
        data_scope="all",
        permissions=["customers.view", "sales.view"],
    )
    reader = factories.user("reader", role_code=reader_role.code)
    page = signed_in(reader).get(url).content.decode()
    assert figure(page, "lifetime_total") == "¥1,300.00"
    assert 'id="new-order"' not in page and 'id="new-opportunity"' not in page


def test_empty_card(owner):
    customer = factories.customer(owner, "新客户")
    page = signed_in(owner).get(f"/customers/{customer.pk}/").content.decode()
    assert figure(page, "orders") == "0" and figure(page, "lifetime_total") == "¥0.00"
    assert figure(page, "first_order") == "—"
    for empty in ("no-orders", "no-contracts", "no-opportunities"):
        assert f'id="{empty}"' in page


def home_card(page: str, key: str) -> str:
    start = page.index(f'data-card="{key}"')
    value = page.index("data-value>", start) + len("data-value>")
    return page[value : page.index("</div>", value)]


def test_home_cards(owner, teammate, outsider, team_a):
    customer = factories.customer(owner, "张三")
    services.opportunity_create(actor=owner, customer=customer, title="一", amount="1")
    services.opportunity_create(actor=owner, customer=customer, title="二", amount="2")
    won = services.opportunity_create(actor=owner, customer=customer, title="三", amount="3")
    services.opportunity_win(actor=owner, opportunity=won, expected_version=1, create="order")
    services.opportunity_create(
        actor=teammate,
        customer=factories.customer(teammate, "李娜"),
        title="别人的",
        amount="1",
    )
    today = timezone.localdate()
    services.contract_create(
        actor=owner,
        customer=customer,
        title="快到期",
        starts_on=today - timedelta(days=300),
        ends_on=today + timedelta(days=10),
        value="100",
        status=ContractStatus.ACTIVE,
    )
    assert services.contract_reminders()["reminded"] == 1  # now expiring
    now = timezone.now()
    sell(owner, customer, "1250.00", now)  # plus the 3.00 order of the won opportunity
    old = sell(owner, customer, "999.00", now - timedelta(days=70))
    assert old.total == Decimal("999.00")

    page = signed_in(owner).get("/").content.decode()
    assert home_card(page, "open_pipeline") == "2"
    assert f'href="/sales/pipeline/?owner={owner.pk}"' in page
    assert home_card(page, "contracts_ending") == "1"
    assert 'href="/sales/contracts/?status=expiring"' in page
    assert home_card(page, "my_sales_month") == "¥1,253.00"

    boss = factories.user("boss", role_code="manager", team_obj=team_a)
    month = today.replace(day=1)
    services.quota_create(actor=boss, user=owner, period="month", starts_on=month, amount="2506")
    page = signed_in(owner).get("/").content.decode()
    assert "50.0 %" in page and "¥2,506.00" in page

    assert home_card(signed_in(teammate).get("/").content.decode(), "open_pipeline") == "1"
    outside = signed_in(outsider).get("/").content.decode()
    assert 'data-card="open_pipeline"' not in outside

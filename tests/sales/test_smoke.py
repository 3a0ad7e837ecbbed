from decimal import Decimal

import pytest

from kehu.sales import selectors, services
from kehu.sales.choices import ContractStatus, OpportunityStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_order_contract_opportunity_quota_smoke(owner, admin_user):
    customer = factories.customer(owner)
    product = services.product_create(
        actor=admin_user, code="P1", list_price="100.00", tax_rate="0.13", name_zh_hans="茶"
    )
    order = services.order_create(
        actor=owner,
        customer=customer,
        lines=[{"product_id": product.pk, "quantity": "3", "discount": "10"}],
        payments=[{"amount": "100", "method": "cash"}],
    )
    assert order.total == Decimal("290.00")
    assert order.paid_total == Decimal("100.00")
    assert order.payment_status == "partial"
    services.order_add_refund(actor=owner, order=order, amount="40", reason="broken")
    walk_in = services.order_create(actor=owner, lines=[{"description": "水", "unit_price": "2"}])
    assert walk_in.number.startswith("SO-")
    services.order_link_customer(
        actor=owner, order=walk_in, customer=customer, expected_version=walk_in.version
    )
    summary = selectors.customer_sales(customer=customer)
    assert summary.orders == 2 and summary.lifetime_total == Decimal("252.00")
    contract = services.contract_create(
        actor=owner,
        customer=customer,
        title="年度供货",
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        value="12000",
        status=ContractStatus.ACTIVE,
    )
    assert contract.number.startswith("HT-")
    opp = services.opportunity_create(actor=owner, customer=customer, title="扩容", amount="5000")
    stages = list(selectors.stage_list())
    opp = services.opportunity_move(
        actor=owner, opportunity=opp, stage=stages[2], expected_version=opp.version
    )
    opp = services.opportunity_win(
        actor=owner, opportunity=opp, expected_version=opp.version, create="order"
    )
    assert opp.status == OpportunityStatus.WON and opp.order_id
    quota = services.quota_create(
        actor=admin_user, user=owner, period="year", starts_on="2026-05-05", amount="10000"
    )
    rows = selectors.quota_attainment(actor=admin_user, period="year", starts_on=quota.starts_on)
    assert rows[0].actual == Decimal("5252.00") and rows[0].rank == 1
    board = selectors.pipeline_board(actor=owner)
    assert len(board) == 5

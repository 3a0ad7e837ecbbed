"""Journeys: a salesperson drags an opportunity across the pipeline board and onto Won
(recording the order); a manager views the month's quota attainment and trend."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.sales import selectors, services
from kehu.sales.models import Opportunity, Order
from tests import factories
from tests.e2e.conftest import submit

pytestmark = pytest.mark.browser

BOARD = "/sales/pipeline/"
QUOTAS = "/sales/quotas/"


@pytest.fixture
def team(db):
    return factories.team("华东销售一组", "sales")


@pytest.fixture
def salesperson(team):
    return factories.user("xiaowang", role_code="sales", team_obj=team, name="王小明")


def test_drag_an_opportunity_across_the_board_and_onto_won(page, salesperson, sign_in_directly):
    customer = factories.customer(salesperson, "上海明珠贸易有限公司", kind="organisation")
    stages = list(selectors.stage_list())
    opp = services.opportunity_create(
        actor=salesperson, customer=customer, title="二期仓库改造", amount="12800.00"
    )
    services.opportunity_create(
        actor=salesperson, customer=customer, title="年度耗材", amount="3000.00"
    )
    sign_in_directly(page, salesperson)
    page.goto("/")
    page.locator(f'nav a.nav-link[href="{BOARD}"]').click()
    page.wait_for_url(f"**{BOARD}")
    card = page.locator(f'[data-card="{opp.pk}"]')
    first = page.locator(f'[data-column="{stages[0].pk}"]')
    third = page.locator(f'[data-column="{stages[2].pk}"]')
    expect(first.locator("[data-count]")).to_have_text("2")
    expect(card).to_contain_text("上海明珠贸易有限公司")
    expect(card).to_contain_text("¥12,800.00")

    # Drag to the third stage: saved at once, the counts follow.
    with page.expect_response(lambda r: r.url.endswith(f"/opportunities/{opp.pk}/move/")) as move:
        page.drag_and_drop(f'[data-card="{opp.pk}"]', f'[data-column="{stages[2].pk}"]')
    assert move.value.status == 200
    expect(third.locator(f'[data-card="{opp.pk}"]')).to_be_visible()
    expect(third.locator("[data-count]")).to_have_text("1")
    expect(first.locator("[data-count]")).to_have_text("1")
    expect(third.locator("[data-weighted]")).to_have_text("¥6,400.00")
    expect(page.locator("#board-message")).to_contain_text("二期仓库改造")
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == (stages[2].pk, 2)

    # Someone else moves it meanwhile: the next drag is refused and the card goes back.
    services.opportunity_move(
        actor=salesperson, opportunity=opp, stage=stages[3], expected_version=2
    )
    with page.expect_response(lambda r: r.url.endswith(f"/opportunities/{opp.pk}/move/")) as move:
        page.drag_and_drop(f'[data-card="{opp.pk}"]', f'[data-column="{stages[1].pk}"]')
    assert move.value.status == 409
    expect(page.locator("#board-message")).to_have_class("alert alert-danger")
    # The board is reloaded as it now is: the card is where the other person put it.
    expect(page.locator(f'[data-column="{stages[3].pk}"] [data-card="{opp.pk}"]')).to_be_visible()
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == (stages[3].pk, 3)

    # Onto Won: asked whether to record the order; the card leaves the board.
    page.drag_and_drop(f'[data-card="{opp.pk}"]', "#drop-won")
    dialog = page.locator("#won-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-dialog-title]")).to_have_text("二期仓库改造")
    dialog.locator('input[data-create="order"]').check()
    assert submit(page, "#won-submit", f"/opportunities/{opp.pk}/close/").status == 302
    page.wait_for_url(f"**{BOARD}")
    expect(page.locator(f'[data-card="{opp.pk}"]')).to_have_count(0)
    expect(page.locator(".alert-success")).to_contain_text("二期仓库改造")
    opp.refresh_from_db()
    assert opp.status == "won" and opp.closed_at is not None
    order = Order.objects.get(pk=opp.order_id)
    assert (order.customer, order.total) == (customer, Decimal("12800.00"))
    expect(page.locator("#board-totals")).to_contain_text("1")

    # The other card, without dragging: its menu → Lost…, with the reason.
    other = Opportunity.objects.get(status="open")
    card = page.locator(f'[data-card="{other.pk}"]')
    card.locator("summary").click()
    card.locator('[data-close-action="lost"]').click()
    lost = page.locator("#lost-dialog")
    expect(lost).to_be_visible()
    lost.locator("#lost-reason").fill("预算冻结")
    assert submit(page, "#lost-submit", f"/opportunities/{other.pk}/close/").status == 302
    expect(page.locator(f'[data-card="{other.pk}"]')).to_have_count(0)
    other.refresh_from_db()
    assert (other.status, other.lost_reason) == ("lost", "预算冻结")


def test_manager_views_quota_attainment_for_the_month(page, team, salesperson, sign_in_directly):
    manager = factories.user("laozhao", role_code="manager", team_obj=team, name="赵经理")
    a = factories.customer(salesperson, "客户甲")
    b = factories.customer(salesperson, "客户乙")
    now = timezone.now()
    lines = [{"description": "货品", "unit_price": "600.00"}]
    services.order_create(actor=salesperson, customer=a, ordered_at=now, lines=lines)
    refunded = services.order_create(
        actor=salesperson,
        customer=b,
        ordered_at=now,
        lines=[{"description": "货品", "unit_price": "400.00"}],
        payments=[{"amount": "400", "method": "alipay"}],
    )
    services.order_add_refund(actor=salesperson, order=refunded, amount="100", reason="退货")
    cancelled = services.order_create(actor=salesperson, customer=a, ordered_at=now, lines=lines)
    services.order_cancel(actor=salesperson, order=cancelled, expected_version=1)
    month = timezone.localdate(timezone=selectors.company_zone()).replace(day=1)
    # 600.00 + (400.00 − 100.00) = 900.00 of 1,800.00 = 50.0 %; two new customers of 4.
    services.quota_create(
        actor=manager,
        user=salesperson,
        period="month",
        starts_on=month,
        amount="1800",
        new_customers=4,
    )
    sign_in_directly(page, manager)
    page.goto("/")
    page.locator(f'nav a.nav-link[href="{QUOTAS}"]').click()
    page.wait_for_url(f"**{QUOTAS}")
    expect(page.locator("#period-title")).to_have_text(month.strftime("%Y-%m"))
    row = page.locator(f'#attainment-table tr[data-subject="user:{salesperson.pk}"]')
    expect(row).to_contain_text("王小明")
    expect(row.locator("[data-target]")).to_have_text("¥1,800.00")
    expect(row.locator("[data-actual]")).to_have_text("¥900.00")
    expect(row.locator("[data-percent]")).to_have_text("50.0 %")
    expect(row.locator("[data-rank]")).to_have_text("1")
    expect(row.locator("[data-new-customers]")).to_contain_text("2 / 4")
    expect(row.locator("progress")).to_have_attribute("value", "50.0")

    # The person's trend: drawn by ECharts from the page's figures.
    row.locator("[data-trend-link]").click()
    page.wait_for_url(f"**trend=user:{salesperson.pk}**")
    expect(page.locator("#trend-chart[data-chart-ready='true'] canvas")).to_have_count(1)
    last = page.locator(f'#trend-table tr[data-month="{month.strftime("%Y-%m")}"] [data-actual]')
    expect(last).to_have_text("¥900.00", use_inner_text=False)

"""Quota attainment against a hand-computed fixture."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from kehu.core.access import AccessDenied
from kehu.core.models import RuleViolation
from kehu.sales import selectors, services
from kehu.sales.quotas import period_end, period_start
from tests import factories

pytestmark = pytest.mark.django_db
D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def sell(actor, customer, amount: str, when: datetime, *, refund: str = "", cancel=False):
    order = services.order_create(
        actor=actor,
        customer=customer,
        ordered_at=when,
        lines=[{"description": "货品", "unit_price": amount}],
        payments=[{"amount": amount, "method": "transfer"}] if refund or not cancel else [],
    )
    if refund:
        services.order_add_refund(actor=actor, order=order, amount=refund, reason="退货")
    if cancel:
        order = services.order_cancel(actor=actor, order=order, expected_version=order.version)
    return order


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        ("month", date(2026, 2, 14), date(2026, 2, 1), date(2026, 3, 1)),
        ("month", date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),
        ("quarter", date(2026, 5, 5), date(2026, 4, 1), date(2026, 7, 1)),
        ("quarter", date(2026, 11, 30), date(2026, 10, 1), date(2027, 1, 1)),
        ("year", date(2026, 7, 1), date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_periods(period, day, start, end):
    assert period_start(period, day) == start
    assert period_end(period, start) == end


def test_attainment_ranking_and_new_customers(admin_user, owner, teammate, team_a):
    old = factories.customer(owner, name="老客户")
    new1 = factories.customer(owner, name="新客户甲")
    new2 = factories.customer(teammate, name="新客户乙")
    # Before the period: makes "old" an existing customer.
    sell(owner, old, "500.00", at(2026, 2, 28, 23, 59))
    # March 2026, Shanghai time:
    sell(owner, old, "1000.00", at(2026, 3, 1, 0, 0))  # the first minute counts
    sell(owner, new1, "2500.50", at(2026, 3, 15, 10, 0), refund="500.50")  # counts 2000.00
    sell(owner, new1, "300.00", at(2026, 3, 20, 10, 0), cancel=True)  # cancelled: not counted
    sell(owner, None, "199.99", at(2026, 3, 31, 23, 59))  # a walk-in: amount, not a customer
    sell(owner, new1, "999.00", at(2026, 4, 1, 0, 0))  # April: not counted
    sell(teammate, new2, "4000.00", at(2026, 3, 10, 9, 0))
    # owner: 1000.00 + 2000.00 + 199.99 = 3199.99; new customers: new1 only (old bought in Feb)
    # teammate: 4000.00, new customers: new2. Team: 7199.99, new customers 2.
    services.quota_create(
        actor=admin_user,
        user=owner,
        period="month",
        starts_on="2026-03-09",
        amount="4000",
        new_customers=2,
    )
    services.quota_create(
        actor=admin_user, user=teammate, period="month", starts_on="2026-03-01", amount="3200"
    )
    services.quota_create(
        actor=admin_user, team=team_a, period="month", starts_on="2026-03-01", amount="8000"
    )
    rows = selectors.quota_attainment(actor=admin_user, period="month", starts_on=date(2026, 3, 1))
    by_label = {row.label: row for row in rows}
    mine, theirs, team = by_label[owner.name], by_label[teammate.name], by_label[team_a.name]
    assert (mine.actual, mine.percent, mine.new_customers, mine.new_customers_percent) == (
        D("3199.99"),
        D("80.0"),
        1,
        D("50.0"),
    )
    assert (theirs.actual, theirs.percent, theirs.new_customers) == (D("4000.00"), D("125.0"), 1)
    assert (team.actual, team.percent, team.new_customers, team.rank) == (
        D("7199.99"),
        D("90.0"),
        2,
        None,
    )
    assert (theirs.rank, mine.rank) == (1, 2)
    assert [row.label for row in rows] == [teammate.name, owner.name, team_a.name]
    # Each person sees their own quota only (own scope).
    own = selectors.quota_attainment(actor=owner, period="month", starts_on=date(2026, 3, 31))
    assert [row.label for row in own] == [owner.name]
    trend = dict(selectors.sales_trend(user_id=owner.pk, months=3, today=date(2026, 4, 10)))
    assert trend == {
        date(2026, 2, 1): D("500.00"),
        date(2026, 3, 1): D("3199.99"),
        date(2026, 4, 1): D("999.00"),
    }


def test_quota_rules(admin_user, owner, teammate, team_a, team_b):
    services.quota_create(
        actor=admin_user, user=owner, period="quarter", starts_on="2026-05-20", amount="9000"
    )
    with pytest.raises(RuleViolation):  # one quota per person and period
        services.quota_create(
            actor=admin_user, user=owner, period="quarter", starts_on="2026-04-01", amount="1"
        )
    with pytest.raises(RuleViolation):
        services.quota_create(actor=admin_user, period="month", starts_on="2026-04-01", amount="1")
    with pytest.raises(ValidationError):
        services.quota_create(
            actor=admin_user, user=owner, period="week", starts_on="2026-04-01", amount="-5"
        )
    with pytest.raises(AccessDenied):  # a salesperson does not set quotas
        services.quota_create(
            actor=teammate, user=teammate, period="month", starts_on="2026-04-01", amount="1"
        )
    manager = factories.user("mgr", role_code="manager", team_obj=team_a)
    services.quota_create(
        actor=manager, team=team_a, period="year", starts_on="2026-01-01", amount="100000"
    )
    with pytest.raises(AccessDenied):  # another department's team
        services.quota_create(
            actor=manager, team=team_b, period="year", starts_on="2026-01-01", amount="1"
        )

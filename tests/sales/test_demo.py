"""The demo's sales are consistent to the cent: lines add up to their orders, payments
and refunds to the order's running totals; walk-ins, contracts, opportunities and
quotas are there and the same seed gives the same figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Count, F, Q, Sum

from kehu.demo import load_demo
from kehu.sales.choices import ContractStatus, OrderStatus
from kehu.sales.models import Contract, Opportunity, Order, Payment, Quota, Refund

pytestmark = pytest.mark.django_db


def test_demo_sales_add_up():
    summary = load_demo(seed=5, users=16, customers=120, orders=700)
    assert summary["orders"] == Order.objects.count() == 700
    orders = Order.objects.annotate(
        lines_total=Sum("lines__total"), lines_tax=Sum("lines__tax"), n=Count("lines")
    )
    for order in orders:
        assert order.n >= 1
        assert order.lines_total == order.total
        assert order.lines_tax == order.tax_total
        assert order.subtotal - order.discount_total == order.total  # tax-inclusive prices
        assert order.number == f"SO-{order.pk:08d}"
        assert order.refunded_total <= order.paid_total <= order.total
    paid = dict(Payment.objects.values("order").annotate(s=Sum("amount")).values_list("order", "s"))
    refunded = dict(
        Refund.objects.values("order").annotate(s=Sum("amount")).values_list("order", "s")
    )
    for order in Order.objects.all():
        assert paid.get(order.pk, Decimal(0)) == order.paid_total
        assert refunded.get(order.pk, Decimal(0)) == order.refunded_total
    walk_ins = Order.objects.filter(customer=None)
    assert 0.05 * 700 < walk_ins.count() < 0.2 * 700
    assert not walk_ins.filter(consumer_label="").exists()
    assert not Order.objects.filter(status=OrderStatus.CANCELLED, paid_total__gt=0).exists()
    assert (
        not Order.objects.exclude(customer=None)
        .exclude(Q(owner=F("customer__owner")) | Q(customer__owner=None))
        .exists()
    )
    assert Opportunity.objects.exists() and Quota.objects.filter(user=None).exists()
    for contract in Contract.objects.all():
        assert contract.remind_on == contract.ends_on - __import__("datetime").timedelta(
            days=contract.remind_days
        )
        assert contract.default_liability
    assert not Contract.objects.filter(status=ContractStatus.EXPIRING, reminded_at=None).exists()

"""Order services: totals, payments, refunds, cancellation, linking a walk-in's order."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError, RuleViolation
from kehu.sales import selectors, services
from kehu.sales.choices import DeliveryStatus, OrderStatus, PaymentStatus
from kehu.sales.models import Order, OrderLine, Payment, Refund
from tests import factories
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def product(admin_user):
    return services.product_create(
        actor=admin_user,
        code="TEA-1",
        list_price="99.90",
        tax_rate="0.13",
        name_zh_hans="龙井",
        name_en="Longjing",
    )


def test_order_totals_from_lines(owner, product):
    customer = factories.customer(owner)
    order = services.order_create(
        actor=owner,
        customer=customer,
        lines=[
            {"product_id": product.pk, "quantity": "3", "discount": "10"},
            {"description": "上门安装", "unit_price": "200", "tax_rate": "0.06"},
        ],
    )
    # 289.70 (tax 33.33) + 200.00 (tax 11.32)
    assert (order.subtotal, order.discount_total, order.tax_total, order.total) == (
        D("499.70"),
        D("10.00"),
        D("44.65"),
        D("489.70"),
    )
    lines = list(order.lines.order_by("id"))
    assert [line.description for line in lines] == ["龙井", "上门安装"]
    assert lines[0].unit_price == D("99.90")  # the product's list price by default
    assert order.number == f"SO-{order.pk:08d}"
    assert order.owner == owner and order.team_id == owner.team_id
    assert AuditEvent.objects.filter(action="sales.order.create", object_id=str(order.pk)).exists()


def test_bad_lines_name_the_line_and_create_nothing(owner, product):
    with pytest.raises(ValidationError) as caught:
        services.order_create(
            actor=owner,
            lines=[
                {"product_id": product.pk, "quantity": "-1"},
                {"description": "x", "unit_price": "1.234"},
                {"product_code": "NOPE"},
                {"description": "y", "unit_price": "5", "discount": "6"},
            ],
        )
    fields = set(caught.value.message_dict)
    assert {
        "lines.0.quantity",
        "lines.1.unit_price",
        "lines.2.product",
        "lines.3.discount",
    } <= fields
    assert not Order.all_objects.exists() and not OrderLine.objects.exists()
    with pytest.raises(ValidationError, match="line"):
        services.order_create(actor=owner, lines=[])


def test_payments_never_exceed_the_total_and_refunds_never_exceed_payments(owner, product):
    order = services.order_create(actor=owner, lines=[{"product_id": product.pk}])
    assert order.payment_status == PaymentStatus.UNPAID
    services.order_add_payment(actor=owner, order=order, amount="50", method="cash")
    assert (order.paid_total, order.payment_status) == (D("50.00"), PaymentStatus.PARTIAL)
    with pytest.raises(RuleViolation):
        services.order_add_payment(actor=owner, order=order, amount="49.91", method="cash")
    services.order_add_payment(actor=owner, order=order, amount="49.90", method="alipay")
    assert order.payment_status == PaymentStatus.PAID
    with pytest.raises(RuleViolation):
        services.order_add_refund(actor=owner, order=order, amount="99.91", reason="太多")
    services.order_add_refund(actor=owner, order=order, amount="30", reason="破损")
    assert (order.refunded_total, order.payment_status) == (D("30.00"), PaymentStatus.PAID)
    services.order_add_refund(
        actor=owner, order=order, amount="69.90", reason="退货", goods_returned=True
    )
    assert order.payment_status == PaymentStatus.REFUNDED
    assert order.delivery_status == DeliveryStatus.RETURNED
    with pytest.raises(RuleViolation):
        services.order_add_refund(actor=owner, order=order, amount="0.01", reason="再退")
    assert Payment.objects.filter(order=order).count() == 2
    assert Refund.objects.filter(order=order).count() == 2
    with pytest.raises(ValidationError):
        services.order_add_refund(actor=owner, order=order, amount="1", reason="  ")
    with pytest.raises(ValidationError):
        services.order_add_payment(actor=owner, order=order, amount="1.001", method="cash")


def test_cancel_needs_the_money_back_first(owner, product):
    order = services.order_create(
        actor=owner,
        lines=[{"product_id": product.pk}],
        payments=[{"amount": "99.90", "method": "cash"}],
    )
    with pytest.raises(RuleViolation):
        services.order_cancel(actor=owner, order=order, expected_version=order.version)
    services.order_add_refund(actor=owner, order=order, amount="99.90", reason="取消")
    order = services.order_cancel(actor=owner, order=order, expected_version=order.version)
    assert order.status == OrderStatus.CANCELLED
    with pytest.raises(RuleViolation):
        services.order_add_payment(actor=owner, order=order, amount="1", method="cash")


def test_linking_a_walk_in_order_moves_it_into_the_customers_history(owner, outsider, product):
    customer = factories.customer(owner, name="陈小春")
    walk_in = services.order_create(
        actor=owner,
        consumer_label="散客 3号桌",
        lines=[{"product_id": product.pk, "quantity": "2"}],
        payments=[{"amount": "199.80", "method": "wechat_pay"}],
    )
    assert walk_in.is_anonymous
    assert selectors.customer_sales(customer=customer).orders == 0
    with pytest.raises(AccessDenied):  # the outsider cannot see this order
        services.order_link_customer(
            actor=outsider, order=walk_in, customer=customer, expected_version=walk_in.version
        )
    with pytest.raises(ConflictError):
        services.order_link_customer(
            actor=owner, order=walk_in, customer=customer, expected_version=walk_in.version - 1
        )
    linked = services.order_link_customer(
        actor=owner, order=walk_in, customer=customer, expected_version=walk_in.version
    )
    assert linked.customer == customer and linked.linked_at is not None
    summary = selectors.customer_sales(customer=customer)
    assert (summary.orders, summary.lifetime_total, summary.paid) == (
        1,
        D("199.80"),
        D("199.80"),
    )
    assert list(selectors.orders_of_customer(customer=customer)) == [linked]
    assert AuditEvent.objects.filter(action="sales.order.link").count() == 1
    assert AuditEvent.objects.filter(
        action="customers.customer.order_linked", object_id=str(customer.pk)
    ).exists()
    with pytest.raises(RuleViolation):  # already linked
        services.order_link_customer(
            actor=owner, order=linked, customer=customer, expected_version=linked.version
        )


def test_a_customer_the_actor_cannot_see_is_refused(owner, team_b, product):
    other_seller = factories.user("other", role_code="sales", team_obj=team_b)
    theirs = factories.customer(other_seller, name="王某")
    with pytest.raises(AccessDenied):
        services.order_create(actor=owner, customer=theirs, lines=[{"product_id": product.pk}])
    assert not Order.all_objects.exists()


def test_update_lines_may_not_fall_below_what_was_paid(owner, product):
    order = services.order_create(
        actor=owner,
        lines=[{"product_id": product.pk, "quantity": "2"}],
        payments=[{"amount": "150", "method": "cash"}],
    )
    with pytest.raises(RuleViolation):
        services.order_update(
            actor=owner,
            order=order,
            expected_version=order.version,
            lines=[{"product_id": product.pk, "quantity": "1"}],
        )
    assert order.lines.get().quantity == D("2")
    updated = services.order_update(
        actor=owner,
        order=order,
        expected_version=order.version,
        lines=[{"product_id": product.pk, "quantity": "3"}],
        delivery_status=DeliveryStatus.DELIVERED,
    )
    assert updated.total == D("299.70") and updated.payment_status == PaymentStatus.PARTIAL
    with pytest.raises(ConflictError):
        services.order_update(
            actor=owner, order=order, expected_version=order.version, notes="stale"
        )


def test_teammate_with_own_scope_cannot_change_the_order(owner, teammate, product):
    order = services.order_create(actor=owner, lines=[{"product_id": product.pk}])
    with pytest.raises(AccessDenied):
        services.order_add_payment(actor=teammate, order=order, amount="1", method="cash")
    with pytest.raises(AccessDenied):
        services.order_delete(actor=teammate, order=order, expected_version=order.version)
    order.refresh_from_db()
    assert order.paid_total == 0 and order.deleted_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_what_was_paid():
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    from tests.conftest import seed_reference_data

    seed_reference_data()
    team = factories.team("退款组")
    seller = factories.user("seller", role_code="sales", team_obj=team)
    order = services.order_create(
        actor=seller,
        lines=[{"description": "礼盒", "unit_price": "100"}],
        payments=[{"amount": "100", "method": "cash"}],
    )
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def refund() -> None:
        try:
            barrier.wait(5)
            services.order_add_refund(actor=seller, order=order, amount="40", reason="并发退款")
            outcomes.append("refunded")
        except RuleViolation:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    order.refresh_from_db()
    assert sorted(outcomes) == ["refunded", "refunded", "refused", "refused"]
    assert order.refunded_total == D("80.00") == sum(r.amount for r in order.refunds.all())


def test_amounts_beyond_what_the_database_holds_are_refused(owner):
    with pytest.raises(ValidationError) as caught:
        services.order_create(
            actor=owner,
            lines=[{"description": "x", "quantity": "99999999999", "unit_price": "999999999"}],
        )
    assert "lines.0.quantity" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.order_create(actor=owner, lines=[{"description": "x", "unit_price": "1e30"}])
    assert "lines.0.unit_price" in caught.value.message_dict
    assert not Order.all_objects.exists()

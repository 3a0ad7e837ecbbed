"""Writes of orders, their payments and refunds, and the linking of an anonymous
consumer's order to a customer. Keyword-only, one transaction, scoped, audited."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.sales.choices import (
    DeliveryStatus,
    OrderChannel,
    OrderStatus,
    PaymentMethod,
)
from kehu.sales.common import (
    clean_choice,
    clean_datetime,
    clean_money,
    clean_text,
    credited_owner,
    delete_in_scope,
    locked_for_change,
    owner_fields,
    raise_if,
    reassigned_to,
    require_perm,
    restore_in_scope,
    visible_customer,
)
from kehu.sales.models import Order, OrderLine, Payment, Product, Refund
from kehu.sales.money import (
    MAX_AMOUNT,
    LineAmounts,
    line_amounts,
    order_amounts,
    payment_status,
    to_decimal,
)

MAX_LINES = 500
HEADER_FIELDS = ("ordered_at", "channel", "consumer_label", "delivery_status", "notes")


def order_number(pk: int) -> str:
    """The number an order gets when none is given."""
    return f"SO-{pk:08d}"


def _changeable(actor: Any, order: Order) -> Order:
    """The order locked for update, if the actor may change it."""
    return locked_for_change(actor, Order, order)


def clean_lines(
    lines: Iterable[Mapping[str, Any]], *, prices_include_tax: bool
) -> list[tuple[dict[str, Any], LineAmounts]]:
    """Check order lines; each error is named ``lines.<n>.<field>``. A line names a
    product (its id or its code) or a description; price and tax default to the
    product's."""
    lines = list(lines)
    errors: dict[str, str] = {}
    if not lines:
        errors["lines"] = _("Add at least one line.")
    if len(lines) > MAX_LINES:
        errors["lines"] = _("At most %(n)d lines.") % {"n": MAX_LINES}
    raise_if(errors)
    wanted_ids = {line.get("product_id") for line in lines if line.get("product_id")}
    wanted_codes = {line.get("product_code") for line in lines if line.get("product_code")}
    products = {p.pk: p for p in Product.objects.filter(pk__in=wanted_ids)} if wanted_ids else {}
    by_code = (
        {p.code: p for p in Product.objects.filter(code__in=wanted_codes)} if wanted_codes else {}
    )
    cleaned: list[tuple[dict[str, Any], LineAmounts]] = []
    for n, line in enumerate(lines):
        prefix = f"lines.{n}."
        product = None
        if line.get("product_id"):
            product = products.get(line["product_id"])
            if product is None:
                errors[prefix + "product"] = _("No such product.")
        elif line.get("product_code"):
            product = by_code.get(line["product_code"])
            if product is None:
                errors[prefix + "product"] = _("No such product.")
        description = clean_text(line.get("description"), prefix + "description", errors, limit=200)
        if product is None and not description and prefix + "product" not in errors:
            errors[prefix + "product"] = _("Choose a product or describe the item.")
        try:
            quantity = to_decimal(line.get("quantity", 1))
            if quantity <= 0:
                errors[prefix + "quantity"] = _("Enter a quantity greater than zero.")
            elif quantity != quantity.quantize(Decimal("0.001")) or quantity >= 10**11:
                errors[prefix + "quantity"] = _("Enter a quantity with at most three decimals.")
        except ValueError:
            errors[prefix + "quantity"] = _("Enter a number.")
            quantity = Decimal(1)
        raw_price = line.get("unit_price")
        if raw_price in (None, "") and product is not None:
            unit_price = product.list_price
        else:
            unit_price = clean_money(raw_price, prefix + "unit_price", errors)
        discount = clean_money(line.get("discount") or 0, prefix + "discount", errors)
        raw_rate = line.get("tax_rate")
        try:
            if raw_rate in (None, ""):
                tax_rate = product.tax_rate if product is not None else Decimal(0)
            else:
                tax_rate = to_decimal(raw_rate)
            if not (0 <= tax_rate < 1) or tax_rate != tax_rate.quantize(Decimal("0.0001")):
                errors[prefix + "tax_rate"] = _("Enter a tax rate such as 0.13 for 13 %.")
        except ValueError:
            errors[prefix + "tax_rate"] = _("Enter a tax rate such as 0.13 for 13 %.")
            tax_rate = Decimal(0)
        if any(key.startswith(prefix) for key in errors):
            continue
        try:
            amounts = line_amounts(
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                tax_rate=tax_rate,
                prices_include_tax=prices_include_tax,
            )
        except ValueError as exc:
            errors[prefix + str(exc)] = _("The discount cannot exceed the line amount.")
            continue
        if amounts.total > MAX_AMOUNT:
            errors[prefix + "quantity"] = _("This line's amount is too large.")
            continue
        cleaned.append(
            (
                {
                    "product": product,
                    "description": description or (product.name if product else ""),
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "discount": amounts.discount,
                    "tax_rate": tax_rate,
                },
                amounts,
            )
        )
    if sum((a.total for _f, a in cleaned), Decimal(0)) > MAX_AMOUNT:
        errors["lines"] = _("The order's total is too large.")
    raise_if(errors)
    return cleaned


def _line_rows(order: Order, cleaned: list[tuple[dict[str, Any], LineAmounts]]) -> list[OrderLine]:
    return [
        OrderLine(order=order, net=a.net, tax=a.tax, total=a.total, **fields)
        for fields, a in cleaned
    ]


def _set_totals(order: Order, cleaned: list[tuple[dict[str, Any], LineAmounts]]) -> None:
    totals = order_amounts(a for _f, a in cleaned)
    order.subtotal = totals.subtotal
    order.discount_total = totals.discount_total
    order.tax_total = totals.tax_total
    order.total = totals.total
    order.payment_status = payment_status(
        total=order.total, paid=order.paid_total, refunded=order.refunded_total
    )


def _clean_header(fields: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "ordered_at" in fields:
        clean["ordered_at"] = clean_datetime(fields["ordered_at"], "ordered_at", errors)
    if "channel" in fields:
        clean["channel"] = clean_choice(fields["channel"], "channel", errors, OrderChannel)
    if "delivery_status" in fields:
        clean["delivery_status"] = clean_choice(
            fields["delivery_status"], "delivery_status", errors, DeliveryStatus
        )
    if "consumer_label" in fields:
        clean["consumer_label"] = clean_text(
            fields["consumer_label"], "consumer_label", errors, limit=100
        )
    if "notes" in fields:
        clean["notes"] = clean_text(fields["notes"], "notes", errors, limit=5000, multiline=True)
    raise_if(errors)
    return clean


def order_create(
    *,
    actor: Any,
    lines: Iterable[Mapping[str, Any]],
    customer: Customer | int | None = None,
    number: str = "",
    ordered_at: Any = None,
    channel: str = OrderChannel.STORE,
    consumer_label: str = "",
    currency: str = "CNY",
    prices_include_tax: bool = True,
    delivery_status: str = DeliveryStatus.PENDING,
    notes: str = "",
    owner: Any = None,
    payments: Iterable[Mapping[str, Any]] = (),
) -> Order:
    """Record an order of a customer the actor may see, or of an anonymous consumer
    (``customer=None``). Payments received with it may be given at once."""
    require_perm(actor, Perm.CHANGE_SALES)
    found = visible_customer(actor, customer) if customer is not None else None
    header = _clean_header(
        {
            "ordered_at": ordered_at,
            "channel": channel,
            "consumer_label": consumer_label,
            "delivery_status": delivery_status,
            "notes": notes,
        }
    )
    errors: dict[str, str] = {}
    number = clean_text(number, "number", errors, limit=64)
    if currency not in {"CNY", "HKD", "TWD", "MOP", "USD", "EUR"}:
        errors["currency"] = _("Not a currency kehu keeps.")
    raise_if(errors)
    cleaned = clean_lines(lines, prices_include_tax=prices_include_tax)
    credited = credited_owner(actor, owner)
    with transaction.atomic():
        order = Order(
            customer=found,
            number=number or f"new-{uuid.uuid4().hex}",
            currency=currency,
            prices_include_tax=prices_include_tax,
            **header,
            **owner_fields(credited),
        )
        _set_totals(order, cleaned)
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError:
            raise RuleViolation({"number": _("Another order has this number.")}) from None
        if not number:
            order.number = order_number(order.pk)
            Order.objects.filter(pk=order.pk).update(number=order.number)
        OrderLine.objects.bulk_create(_line_rows(order, cleaned))
        audit_record(
            actor=actor,
            action="sales.order.create",
            obj=order,
            changes={
                "customer": [None, order.customer_id],
                "total": [None, str(order.total)],
                "lines": [None, len(cleaned)],
                "owner": [None, order.owner_id],
            },
        )
        for payment in payments:
            order_add_payment(actor=actor, order=order, **payment)
            order.refresh_from_db()
    return order


def order_update(
    *,
    actor: Any,
    order: Order,
    expected_version: int,
    lines: Iterable[Mapping[str, Any]] | None = None,
    owner: Any = None,
    **fields: Any,
) -> Order:
    """Change an order's header and, if given, replace its lines (the total may not fall
    below what has been paid). A stale ``expected_version`` conflicts."""
    unknown = set(fields) - set(HEADER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown order fields: {sorted(unknown)}")
    clean = _clean_header(fields)
    with transaction.atomic():
        current = _changeable(actor, order)
        if current.version != expected_version:
            raise ConflictError(order)
        if current.status == OrderStatus.CANCELLED:
            raise RuleViolation(_("A cancelled order cannot be changed."), code="cancelled")
        if owner is not None:
            clean.update(reassigned_to(actor, owner))
        before = {name: getattr(current, name) for name in clean}
        before_total = current.total
        for name, value in clean.items():
            setattr(current, name, value)
        update_fields = sorted(clean)
        if lines is not None:
            cleaned = clean_lines(lines, prices_include_tax=current.prices_include_tax)
            _set_totals(current, cleaned)
            if current.total < current.paid_total:
                raise RuleViolation(
                    {"lines": _("The new total is less than what has been paid; refund first.")},
                    code="below_paid",
                )
            current.lines.all().delete()
            OrderLine.objects.bulk_create(_line_rows(current, cleaned))
            update_fields += [
                "subtotal",
                "discount_total",
                "tax_total",
                "total",
                "payment_status",
            ]
        changes = diff(before, clean)
        if lines is not None:
            changes["total"] = [str(before_total), str(current.total)]
        if changes:
            current.save_versioned(expected_version=expected_version, update_fields=update_fields)
            audit_record(actor=actor, action="sales.order.update", obj=current, changes=changes)
    return current


def _bump(order: Order, **values: Any) -> None:
    Order.all_objects.filter(pk=order.pk).update(
        version=F("version") + 1, updated_at=timezone.now(), **values
    )


def order_add_payment(
    *,
    actor: Any,
    order: Order,
    amount: Any,
    method: str = PaymentMethod.WECHAT_PAY,
    paid_at: Any = None,
    reference: str = "",
) -> Payment:
    """Record money received. The total paid never exceeds the order's total."""
    errors: dict[str, str] = {}
    value = clean_money(amount, "amount", errors, allow_zero=False)
    method = clean_choice(method, "method", errors, PaymentMethod)
    moment = clean_datetime(paid_at, "paid_at", errors)
    reference = clean_text(reference, "reference", errors, limit=100)
    raise_if(errors)
    with transaction.atomic():
        current = _changeable(actor, order)
        if current.status == OrderStatus.CANCELLED:
            raise RuleViolation(_("A cancelled order takes no payments."), code="cancelled")
        if current.paid_total + value > current.total:
            raise RuleViolation(
                {
                    "amount": _("Only %(amount)s is still to be paid.")
                    % {"amount": current.total - current.paid_total}
                },
                code="overpaid",
            )
        payment = Payment.objects.create(
            order=current,
            amount=value,
            method=method,
            paid_at=moment,
            reference=reference,
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        paid = current.paid_total + value
        status = payment_status(total=current.total, paid=paid, refunded=current.refunded_total)
        _bump(current, paid_total=paid, payment_status=status)
        audit_record(
            actor=actor,
            action="sales.order.payment",
            obj=current,
            changes={"paid_total": [str(current.paid_total), str(paid)], "method": method},
        )
    order.refresh_from_db()
    return payment


def order_add_refund(
    *,
    actor: Any,
    order: Order,
    amount: Any,
    reason: str,
    goods_returned: bool = False,
    refunded_at: Any = None,
) -> Refund:
    """Record money given back; never more than has been paid and not yet refunded."""
    errors: dict[str, str] = {}
    value = clean_money(amount, "amount", errors, allow_zero=False)
    reason = clean_text(reason, "reason", errors, limit=200)
    if not reason and "reason" not in errors:
        errors["reason"] = _("Say why the money is given back.")
    moment = clean_datetime(refunded_at, "refunded_at", errors)
    raise_if(errors)
    with transaction.atomic():
        current = _changeable(actor, order)
        refundable = current.paid_total - current.refunded_total
        if value > refundable:
            raise RuleViolation(
                {"amount": _("At most %(amount)s can be refunded.") % {"amount": refundable}},
                code="over_refund",
            )
        refund = Refund.objects.create(
            order=current,
            amount=value,
            reason=reason,
            goods_returned=bool(goods_returned),
            refunded_at=moment,
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        refunded = current.refunded_total + value
        values: dict[str, Any] = {
            "refunded_total": refunded,
            "payment_status": payment_status(
                total=current.total, paid=current.paid_total, refunded=refunded
            ),
        }
        if goods_returned and refunded == current.paid_total:
            values["delivery_status"] = DeliveryStatus.RETURNED
        _bump(current, **values)
        audit_record(
            actor=actor,
            action="sales.order.refund",
            obj=current,
            changes={
                "refunded_total": [str(current.refunded_total), str(refunded)],
                "reason": reason,
            },
        )
    order.refresh_from_db()
    return refund


def order_cancel(*, actor: Any, order: Order, expected_version: int, reason: str = "") -> Order:
    """Cancel an order; money still held must be refunded first."""
    with transaction.atomic():
        current = _changeable(actor, order)
        if current.version != expected_version:
            raise ConflictError(order)
        if current.status == OrderStatus.CANCELLED:
            return current
        if current.paid_total > current.refunded_total:
            raise RuleViolation(
                _("Refund what has been paid before cancelling the order."), code="paid"
            )
        current.status = OrderStatus.CANCELLED
        current.save_versioned(expected_version=expected_version, update_fields=["status"])
        audit_record(
            actor=actor,
            action="sales.order.cancel",
            obj=current,
            changes={"status": [OrderStatus.CONFIRMED, OrderStatus.CANCELLED], "reason": reason},
        )
    return current


def order_link_customer(
    *, actor: Any, order: Order, customer: Customer | int, expected_version: int
) -> Order:
    """Link an anonymous consumer's order to a customer (e.g. when they register): the
    order moves into that customer's history."""
    found = visible_customer(actor, customer)
    with transaction.atomic():
        current = _changeable(actor, order)
        if current.version != expected_version:
            raise ConflictError(order)
        if current.customer_id is not None:
            raise RuleViolation(_("This order already belongs to a customer."), code="linked")
        current.customer = found
        current.linked_at = timezone.now()
        current.save_versioned(
            expected_version=expected_version, update_fields=["customer", "linked_at"]
        )
        audit_record(
            actor=actor,
            action="sales.order.link",
            obj=current,
            changes={"customer": [None, found.pk], "consumer_label": current.consumer_label},
        )
        audit_record(
            actor=actor,
            action="customers.customer.order_linked",
            obj=found,
            changes={"order": [None, current.pk]},
        )
    return current


def order_delete(*, actor: Any, order: Order, expected_version: int) -> None:
    """Soft-delete an order (restorable for 30 days)."""
    delete_in_scope(actor=actor, obj=order, expected_version=expected_version)


def order_restore(*, actor: Any, pk: int) -> Order:
    """Bring back a deleted order (within KEHU_PURGE_AFTER_DAYS)."""
    return restore_in_scope(actor=actor, model=Order, pk=pk)

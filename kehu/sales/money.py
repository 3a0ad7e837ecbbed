"""Money arithmetic of sales: ``Decimal`` only, rounded half-up to the cent.

Prices are tax-inclusive by default (含税价, as Chinese invoices show 价税合计): the tax of
a line is the part of its amount that is tax, ``net × rate / (1 + rate)``. An order with
``prices_include_tax=False`` adds ``net × rate`` on top instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # what Decimal(14, 2) holds


def cents(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to the cent (2.345 → 2.35, -2.345 → -2.35)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal:
    """A finite Decimal from a number or numeric text; never through float for text."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError("not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("not a number") from None
    else:
        raise ValueError("not a number")
    if not result.is_finite():
        raise ValueError("not a number")
    return result


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal  # quantity × unit price, to the cent
    discount: Decimal
    net: Decimal  # gross - discount: what the line costs before tax is added (or including it)
    tax: Decimal
    total: Decimal  # what the customer pays for the line


def line_amounts(
    *,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal = ZERO,
    tax_rate: Decimal = ZERO,
    prices_include_tax: bool = True,
) -> LineAmounts:
    """The amounts of one order line. Raises ValueError on a negative quantity or price
    or a discount larger than the line."""
    if quantity <= 0:
        raise ValueError("quantity")
    if unit_price < 0:
        raise ValueError("unit_price")
    if discount < 0:
        raise ValueError("discount")
    if not (0 <= tax_rate < 1):
        raise ValueError("tax_rate")
    gross = cents(quantity * unit_price)
    discount = cents(discount)
    if discount > gross:
        raise ValueError("discount")
    net = gross - discount
    if prices_include_tax:
        tax = cents(net * tax_rate / (1 + tax_rate))
        total = net
    else:
        tax = cents(net * tax_rate)
        total = net + tax
    return LineAmounts(gross=gross, discount=discount, net=net, tax=tax, total=total)


@dataclass(frozen=True)
class OrderAmounts:
    subtotal: Decimal  # sum of the lines' gross
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def order_amounts(lines: Iterable[LineAmounts]) -> OrderAmounts:
    subtotal = discount = tax = total = ZERO
    for line in lines:
        subtotal += line.gross
        discount += line.discount
        tax += line.tax
        total += line.total
    return OrderAmounts(subtotal=subtotal, discount_total=discount, tax_total=tax, total=total)


def payment_status(*, total: Decimal, paid: Decimal, refunded: Decimal) -> str:
    """unpaid / partial / paid / refunded, from the order's running totals."""
    from kehu.sales.choices import PaymentStatus

    if paid > 0 and refunded >= paid:
        return PaymentStatus.REFUNDED
    if paid <= 0:
        return PaymentStatus.UNPAID if total > 0 else PaymentStatus.PAID
    return PaymentStatus.PAID if paid >= total else PaymentStatus.PARTIAL

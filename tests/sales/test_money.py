"""Money arithmetic: Decimal only, half-up to the cent, discounts, tax, refunds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.sales.choices import PaymentStatus
from kehu.sales.money import cents, line_amounts, order_amounts, payment_status, to_decimal

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.345", "2.35"),
        ("2.344", "2.34"),
        ("-2.345", "-2.35"),
        ("0.005", "0.01"),
        ("0.004999", "0.00"),
        ("1.115", "1.12"),  # a float would give 1.11 (1.115 is 1.11499… in binary)
        ("999999999999.994", "999999999999.99"),
    ],
)
def test_cents_rounds_half_up(value, expected):
    assert cents(D(value)) == D(expected)


def test_to_decimal_never_goes_through_binary_floats_for_text():
    assert to_decimal("0.1") + to_decimal("0.2") == D("0.3")
    assert to_decimal(0.1) == D("0.1")  # a float is taken by its shortest repr
    for bad in ("abc", "NaN", "Infinity", "", True, None, [1]):
        with pytest.raises(ValueError):
            to_decimal(bad)


def test_tax_inclusive_line():
    # 3 × 99.90 = 299.70, minus 10.00 discount = 289.70, 13 % VAT inside:
    # 289.70 × 0.13 / 1.13 = 33.3283… → 33.33
    line = line_amounts(
        quantity=D("3"), unit_price=D("99.90"), discount=D("10"), tax_rate=D("0.13")
    )
    assert (line.gross, line.discount, line.net, line.tax, line.total) == (
        D("299.70"),
        D("10.00"),
        D("289.70"),
        D("33.33"),
        D("289.70"),
    )


def test_tax_exclusive_line_adds_the_tax():
    line = line_amounts(
        quantity=D("2.5"),
        unit_price=D("10.01"),
        tax_rate=D("0.06"),
        prices_include_tax=False,
    )
    # 2.5 × 10.01 = 25.025 → 25.03 (half up); tax 25.03 × 0.06 = 1.5018 → 1.50
    assert (line.gross, line.net, line.tax, line.total) == (
        D("25.03"),
        D("25.03"),
        D("1.50"),
        D("26.53"),
    )


def test_fractional_quantities_round_once_per_line():
    line = line_amounts(quantity=D("0.333"), unit_price=D("3.00"))
    assert line.total == D("1.00")  # 0.999 → 1.00


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": D("0")}, "quantity"),
        ({"quantity": D("-1")}, "quantity"),
        ({"unit_price": D("-0.01")}, "unit_price"),
        ({"discount": D("-1")}, "discount"),
        ({"discount": D("10.01")}, "discount"),  # more than the line
        ({"tax_rate": D("1")}, "tax_rate"),
    ],
)
def test_line_refuses_impossible_values(kwargs, field):
    args = {"quantity": D("1"), "unit_price": D("10.00"), **kwargs}
    with pytest.raises(ValueError, match=field):
        line_amounts(**args)


def test_order_totals_are_sums_of_rounded_lines():
    lines = [
        line_amounts(quantity=D("1"), unit_price=D("0.10"), tax_rate=D("0.13")),
        line_amounts(quantity=D("1"), unit_price=D("0.20"), tax_rate=D("0.13")),
    ]
    totals = order_amounts(lines)
    assert totals.total == D("0.30")
    assert totals.tax_total == sum((line.tax for line in lines), D(0))


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "status"),
    [
        ("100", "0", "0", PaymentStatus.UNPAID),
        ("100", "40", "0", PaymentStatus.PARTIAL),
        ("100", "100", "0", PaymentStatus.PAID),
        ("100", "100", "30", PaymentStatus.PAID),  # a partial refund of a paid order
        ("100", "100", "100", PaymentStatus.REFUNDED),
        ("0", "0", "0", PaymentStatus.PAID),  # a free order owes nothing
    ],
)
def test_payment_status(total, paid, refunded, status):
    assert payment_status(total=D(total), paid=D(paid), refunded=D(refunded)) == status


money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False)
quantity = st.decimals(min_value=D("0.001"), max_value=10**4, places=3, allow_nan=False)
rate = st.sampled_from([D("0"), D("0.06"), D("0.09"), D("0.13")])


@given(quantity, money, rate, st.booleans())
def test_line_invariants(q, price, tax_rate, inclusive):
    line = line_amounts(
        quantity=q, unit_price=price, tax_rate=tax_rate, prices_include_tax=inclusive
    )
    for amount in (line.gross, line.net, line.tax, line.total):
        assert amount == amount.quantize(D("0.01"))
        assert amount >= 0
    assert line.net == line.gross - line.discount
    assert line.total == (line.net if inclusive else line.net + line.tax)
    assert line.tax <= line.total

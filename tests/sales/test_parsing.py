"""The lenient cell readers of the order import: dates, amounts, quantities, customer codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from hypothesis import given
from hypothesis import strategies as st

from kehu.sales.parsing import (
    ParseError,
    customer_id_from_code,
    normalise,
    parse_amount,
    parse_datetime,
    parse_quantity,
)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (a test switches to Chinese on purpose)."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", datetime(2024, 3, 5)),
        ("2024/3/5", datetime(2024, 3, 5)),
        ("2024.3.5", datetime(2024, 3, 5)),
        ("2024年3月5日", datetime(2024, 3, 5)),
        ("2024年03月05号", datetime(2024, 3, 5)),
        ("2024 年 3 月 5 日", datetime(2024, 3, 5)),
        ("20240305", datetime(2024, 3, 5)),
        ("  2024/3/5  ", datetime(2024, 3, 5)),
        ("２０２４／３／５", datetime(2024, 3, 5)),  # full-width
        ("2024-03-05 14:30", datetime(2024, 3, 5, 14, 30)),
        ("2024/3/5 9:05:07", datetime(2024, 3, 5, 9, 5, 7)),
        ("2024-03-05T14:30:00", datetime(2024, 3, 5, 14, 30)),
        ("2024-03-05 14:30:00.250", datetime(2024, 3, 5, 14, 30, 0, 250000)),
        ("2024年3月5日14:30", datetime(2024, 3, 5, 14, 30)),
        ("2024年3月5日 14时30分", datetime(2024, 3, 5, 14, 30)),
        ("2024年3月5日 下午2点", datetime(2024, 3, 5, 14, 0)),
        ("2024年3月5日 上午12点", datetime(2024, 3, 5, 0, 0)),
        ("2024/3/5 2:30 PM", datetime(2024, 3, 5, 14, 30)),
        ("2024/3/5 12:10 am", datetime(2024, 3, 5, 0, 10)),
        ("20240305 08:00", datetime(2024, 3, 5, 8, 0)),
        ("2024-02-29", datetime(2024, 2, 29)),
        ("45356", datetime(2024, 3, 5)),  # an Excel day number
        ("45356.5", datetime(2024, 3, 5, 12, 0)),
    ],
)
def test_dates(text, expected):
    assert parse_datetime(text) == expected


def test_dates_with_an_offset_are_aware():
    moment = parse_datetime("2024-03-05T14:30:00+08:00")
    assert moment == datetime(2024, 3, 5, 6, 30, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(hours=8)
    assert parse_datetime("2024-03-05 06:30Z").tzinfo == UTC
    assert parse_datetime("2024-03-05 06:30 -0500").tzinfo == timezone(timedelta(hours=-5))


MESSAGE = "Enter a date such as 2024-03-05 or 2024年3月5日 (a time may follow)."


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-05",
        "2024-02-30",
        "2023-02-29",
        "2024/3/5/6",
        "5/3/2024",  # day or month first: ambiguous
        "03/05/2024",
        "2024-3",
        "yesterday",
        "2024-03-05 25:00",
        "2024-03-05 14:61",
        "2024-03-05 下午13点",
        "0024-03-05",
        "2024-03-05 14:30 +25:00",
        "2024-03/05",
        "2024年3月",
        "2024030",
        "１２",
    ],
)
def test_malformed_dates_raise_a_translated_error(text):
    with pytest.raises(ParseError) as caught:
        parse_datetime(text)
    assert "2024-03-05" in str(caught.value)
    with translation.override("zh-hans"):
        with pytest.raises(ParseError) as caught:
            parse_datetime(text)
        # translated when raised (in the job's language), not when the module was loaded
        assert str(caught.value) == gettext(MESSAGE)


def test_empty_cells_are_none():
    for parser in (parse_datetime, parse_amount, parse_quantity):
        assert parser("") is None
        assert parser("   ") is None
        assert parser(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1280.50", "1280.50"),
        ("¥1,280.50", "1280.50"),
        ("￥1,280.50", "1280.50"),
        ("¥ 1,280.5", "1280.50"),
        ("RMB 1,280.50", "1280.50"),
        ("rmb1280.5", "1280.50"),
        ("CNY 12,345,678.90", "12345678.90"),
        ("人民币100元", "100.00"),
        ("1,280.50元", "1280.50"),
        ("１，２８０．５０", "1280.50"),  # full-width
        ("￥１２８０", "1280.00"),
        ("0", "0.00"),
        (".5", "0.50"),
        ("3.", "3.00"),
        ("+12", "12.00"),
        ("37.019999999999996", "37.02"),  # a spreadsheet's float
        ("999999999999.99", "999999999999.99"),
    ],
)
def test_amounts(text, expected):
    value = parse_amount(text)
    assert value == Decimal(expected) and str(value) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("1 280,50", "1,280.50"),  # a decimal comma: not Chinese/English convention
        ("1,28,0", "1,280.50"),
        ("12,34", "1,280.50"),
        ("1.280,50", "1,280.50"),
        ("$12", "1,280.50"),
        ("12 34", "1,280.50"),
        ("abc", "1,280.50"),
        ("¥", "1,280.50"),
        ("1e3", "1,280.50"),
        ("NaN", "1,280.50"),
        ("12.345", "two decimal"),
        ("-5", "not negative"),
        ("-¥5", "not negative"),
        ("¥-5", "not negative"),
        ("10%", "percentage"),
        ("1000000000000", "too large"),
    ],
)
def test_malformed_amounts(text, needle):
    with pytest.raises(ParseError) as caught:
        parse_amount(text)
    assert needle in str(caught.value)


def test_negative_amounts_when_allowed():
    assert parse_amount("-¥1,280.50", allow_negative=True) == Decimal("-1280.50")


@given(st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2))
def test_amounts_written_with_thousands_separators_read_back(value):
    assert parse_amount(f"¥{value:,.2f}") == value
    assert parse_amount(f"{value:.2f}") == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", "3"),
        ("2.5", "2.5"),
        ("0.125", "0.125"),
        ("1,000", "1000"),
        ("３", "3"),
        ("3件", "3"),
        ("12 pcs", "12"),
        ("2.000", "2"),
    ],
)
def test_quantities(text, expected):
    assert parse_quantity(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("0", "greater than zero"),
        ("-1", "greater than zero"),
        ("-2.5", "greater than zero"),
        ("0.0", "greater than zero"),
        ("1.2345", "three decimals"),
        ("many", "such as 3"),
        ("3,5", "such as 3"),
        ("100000000000", "too large"),
    ],
)
def test_malformed_quantities(text, needle):
    with pytest.raises(ParseError) as caught:
        parse_quantity(text)
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", 123),
        ("000123", 123),
        ("C000123", 123),
        ("c123", 123),
        ("KH-00042", 42),
        ("CUST_7", 7),
        ("Ｃ０００１２３", 123),
        ("", None),
        ("0", None),
        ("C000", None),
        ("张三", None),
        ("12-34", None),
        ("ABCDEFGH1", None),
        ("9" * 19, None),
    ],
)
def test_customer_codes(text, expected):
    assert customer_id_from_code(text) == expected


def test_normalise():
    assert normalise("\u3000１２\u00a0 ３ ") == "12 3"

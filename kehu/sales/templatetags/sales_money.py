"""``{{ amount|money }}`` → ``¥1,280.50``; ``{{ amount|money:"USD" }}`` → ``US$1,280.50``.
Decimal in, text out, never through float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from kehu.sales.money import cents

register = template.Library()

SYMBOLS = {"CNY": "¥", "HKD": "HK$", "TWD": "NT$", "MOP": "MOP$", "USD": "US$", "EUR": "€"}


@register.filter
def money(value: Any, currency: str = "CNY") -> str:
    if value is None or value == "":
        return ""
    try:
        amount = cents(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{SYMBOLS.get(currency, currency + ' ')}{abs(amount):,.2f}"


@register.filter
def percent(value: Any) -> str:
    """A Decimal percentage (already × 100) as ``87.5 %``; empty for None."""
    return "" if value is None else f"{value} %"

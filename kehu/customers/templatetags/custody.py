"""``{{ value|masked:"mobile" }}``: a customer's masked field as lists show it
(kehu.customers.masking; the clear value only through an audited reveal)."""

from __future__ import annotations

from django import template

from kehu.customers.masking import mask_value

register = template.Library()


@register.filter
def masked(value: object, field: str) -> str:
    return mask_value(field, "" if value is None else str(value))

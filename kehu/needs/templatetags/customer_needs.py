"""``{% need_card customer as card %}``: what the needs card of a customer file shows."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.needs import selectors
from kehu.needs.choices import NeedStatus

register = template.Library()


@register.simple_tag(takes_context=True)
def need_card(context: template.Context, customer: Customer) -> dict[str, Any]:
    user = context.get("user") or getattr(context.get("request"), "user", None)
    can_change = (
        has_perm(user, Perm.CHANGE_CUSTOMERS)
        and scoped(user, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists()
    )
    return {
        "needs": list(selectors.needs_of_customer(actor=user, customer=customer)[:100]),
        "can_change": can_change,
        "statuses": NeedStatus.choices,
    }

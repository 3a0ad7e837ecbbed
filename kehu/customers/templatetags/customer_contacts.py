"""``{% contact_card customer as card %}``: what the contacts card of a customer file shows,
read through the selectors and masked through kehu.customers.masking."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers import selectors
from kehu.customers.masking import masked_values
from kehu.customers.models import Customer

register = template.Library()


@register.simple_tag(takes_context=True)
def contact_card(context: template.Context, customer: Customer) -> dict[str, Any]:
    user = context.get("user") or getattr(context.get("request"), "user", None)
    contacts = list(selectors.contact_list(actor=user, customer=customer)[:200])
    can_change = (
        has_perm(user, Perm.CHANGE_CUSTOMERS)
        and scoped(user, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists()
    )
    return {
        "rows": [{"contact": c, "mobile": masked_values(c)["mobile"]} for c in contacts],
        "can_change": can_change,
    }

"""Figures the customer file contributes to the home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from kehu.core.access import has_perm
from kehu.core.home import HomeCard, register
from kehu.core.permissions import Perm
from kehu.customers.selectors import (
    CustomerFilters,
    customer_list,
    followups_due,
    pool_list,
    returning_soon,
)


@register
def customer_cards(user: Any) -> list[HomeCard]:
    cards = []
    if has_perm(user, Perm.VIEW_CUSTOMERS):
        mine = CustomerFilters(owner_id=user.pk)
        stale = CustomerFilters(owner_id=user.pk, stale_only=True)
        list_url = reverse("customers:list")
        cards += [
            HomeCard(
                "my_customers",
                _("My customers"),
                customer_list(actor=user, filters=mine).count(),
                f"{list_url}?{urlencode({'owner': user.pk})}",
            ),
            HomeCard(
                "to_verify",
                _("To verify"),
                customer_list(actor=user, filters=stale).count(),
                f"{list_url}?{urlencode({'owner': user.pk, 'stale': 'on'})}",
            ),
            HomeCard("followups_due", _("Follow-ups due"), followups_due(actor=user).count()),
            HomeCard(
                "returning_soon",
                _("Back to the pool soon"),
                returning_soon(actor=user).count(),
            ),
        ]
    if has_perm(user, Perm.CLAIM_CUSTOMERS):
        cards.append(
            HomeCard(
                "pool",
                _("In the public pool"),
                pool_list(actor=user).count(),
                reverse("customers:pool"),
            )
        )
    return cards

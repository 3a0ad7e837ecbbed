"""Figures the sales pages contribute to the home page: my open pipeline, my contracts
ending soon, and my sales this month against my monthly quota."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from kehu.core.access import has_perm
from kehu.core.home import HomeCard, register
from kehu.core.permissions import Perm
from kehu.sales.choices import QuotaPeriod
from kehu.sales.quotas import period_start
from kehu.sales.selectors import (
    OpportunityFilters,
    actual_sales,
    company_zone,
    contracts_ending,
    opportunity_list,
    period_bounds,
    quota_list,
)
from kehu.sales.templatetags.sales_money import money, percent


def _my_month(user: Any) -> HomeCard:
    """What I sold this month (net of refunds), and how far that is of my monthly quota."""
    month = period_start(QuotaPeriod.MONTH, timezone.localdate(timezone=company_zone()))
    start, end = period_bounds(QuotaPeriod.MONTH, month)
    amount, _new = actual_sales(user_id=user.pk, start=start, end=end)
    quota = (
        quota_list(actor=user)
        .filter(user_id=user.pk, period=QuotaPeriod.MONTH, starts_on=month)
        .first()
    )
    label = _("My sales this month")
    if quota is not None and quota.amount:
        share = (amount * 100 / quota.amount).quantize(Decimal("0.1"))
        label = _("My sales this month: %(percent)s of %(target)s") % {
            "percent": percent(share),
            "target": money(quota.amount),
        }
    query = urlencode({"period": QuotaPeriod.MONTH, "day": month.isoformat()})
    return HomeCard("my_sales_month", label, money(amount), f"{reverse('sales:quotas')}?{query}")


@register
def sales_cards(user: Any) -> list[HomeCard]:
    if not has_perm(user, Perm.VIEW_SALES):
        return []
    mine = OpportunityFilters(owner_id=user.pk)
    cards = [
        HomeCard(
            "open_pipeline",
            _("Open pipeline"),
            opportunity_list(actor=user, filters=mine).count(),
            f"{reverse('sales:pipeline')}?{urlencode({'owner': user.pk})}",
        ),
        HomeCard(
            "contracts_ending",
            _("Contracts ending soon"),
            contracts_ending(actor=user).count(),
            f"{reverse('sales:contracts')}?{urlencode({'status': 'expiring'})}",
        ),
    ]
    if has_perm(user, Perm.CHANGE_SALES):
        cards.append(_my_month(user))
    return cards

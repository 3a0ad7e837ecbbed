"""``{% customer_sales_card customer as card %}``: what the sales card of a customer file
shows — lifetime totals, the latest orders, active contracts and open opportunities —
to whoever may see the customer and sales (nothing for anyone else)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.sales import selectors
from kehu.sales.choices import ContractStatus, OpportunityStatus
from kehu.sales.models import Contract, Opportunity

register = template.Library()

LATEST_ORDERS = 10
MOST_LISTED = 20


def _url(name: str, *args: Any) -> str:
    """A sales page's address, or "" while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _with_customer(name: str, customer: Customer) -> str:
    url = _url(name)
    return f"{url}?customer={customer.pk}" if url else ""


@register.simple_tag(takes_context=True)
def customer_sales_card(context: template.Context, customer: Customer) -> dict[str, Any]:
    user = context.get("user") or getattr(context.get("request"), "user", None)
    if not has_perm(user, Perm.VIEW_SALES):
        return {"visible": False}
    orders = list(selectors.orders_of_customer(customer=customer)[:LATEST_ORDERS])
    contracts = list(
        Contract.objects.filter(
            customer=customer, status__in=(ContractStatus.ACTIVE, ContractStatus.EXPIRING)
        ).order_by("ends_on", "id")[:MOST_LISTED]
    )
    opportunities = list(
        Opportunity.objects.filter(customer=customer, status=OpportunityStatus.OPEN)
        .select_related("stage", "owner")
        .order_by("expected_close", "id")[:MOST_LISTED]
    )
    # An opportunity's page is for who may see it (its owner's scope); the others are
    # listed without a link.
    linkable = set(
        scoped(user, Perm.VIEW_SALES, Opportunity)
        .filter(pk__in=[o.pk for o in opportunities])
        .values_list("pk", flat=True)
    )
    can_change = has_perm(user, Perm.CHANGE_SALES)
    return {
        "visible": True,
        "summary": selectors.customer_sales(customer=customer),
        "orders": [(order, _url("sales:order", order.pk)) for order in orders],
        "contracts": [(contract, _url("sales:contract", contract.pk)) for contract in contracts],
        "opportunities": [
            (opp, _url("sales:opportunity", opp.pk) if opp.pk in linkable else "")
            for opp in opportunities
        ],
        "all_orders_url": f"{_url('sales:orders')}?customer={customer.pk}",
        "new_order_url": _with_customer("sales:order_create", customer) if can_change else "",
        "new_opportunity_url": _with_customer("sales:opportunity_create", customer)
        if can_change
        else "",
        "new_contract_url": _with_customer("sales:contract_create", customer) if can_change else "",
    }

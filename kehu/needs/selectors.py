"""Reads of customer needs, always scoped to the actor through the customer.

``need_summary`` counts needs for analysis (DOMAIN §3): by production/living × material/
spiritual, by decision factor, by source and by status — each one GROUP BY in the database,
whatever the number of needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from kehu.core.access import scoped
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.customers.selectors import search_condition
from kehu.needs.choices import (
    DecisionFactor,
    NeedDomain,
    NeedNature,
    NeedSource,
    NeedStatus,
)
from kehu.needs.models import Need

# The factor filter's value for "not about a decision factor" (stored as "").
NO_FACTOR = "none"


@dataclass(frozen=True)
class NeedFilters:
    q: str = ""  # customer search: name, pinyin, initials, phone, email, WeChat, tag
    customer_id: int | None = None
    domain: str = ""
    nature: str = ""
    factor: str = ""  # a DecisionFactor value, or NO_FACTOR
    source: str = ""
    priority: str = ""
    status: str = ""


def _visible_needs(actor: Any) -> QuerySet[Need]:
    # Needs of deleted customers are out of sight with their customer.
    return scoped(actor, Perm.VIEW_CUSTOMERS, Need).filter(customer__deleted_at__isnull=True)


def need_list(*, actor: Any, filters: NeedFilters | None = None) -> QuerySet[Need]:
    """The needs of every customer the actor may see, filtered, newest first."""
    filters = filters or NeedFilters()
    needs = _visible_needs(actor)
    if filters.customer_id:
        needs = needs.filter(customer_id=filters.customer_id)
    for name in ("domain", "nature", "source", "priority", "status"):
        value = getattr(filters, name)
        if value:
            needs = needs.filter(**{name: value})
    if filters.factor:
        needs = needs.filter(factor="" if filters.factor == NO_FACTOR else filters.factor)
    condition = search_condition(filters.q)
    if condition is not None:
        needs = needs.filter(customer__in=Customer.objects.filter(condition).values("pk"))
    return needs.order_by("-created_at", "-id")


def needs_of_customer(*, actor: Any, customer: Customer) -> QuerySet[Need]:
    """The needs of one customer, if the actor may see it, newest first."""
    return (
        _visible_needs(actor)
        .filter(customer=customer)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


def need_get(*, actor: Any, pk: int, perm: str = Perm.VIEW_CUSTOMERS) -> Need:
    """One need the actor may act on with ``perm``, or Need.DoesNotExist (→ 404)."""
    return (
        scoped(actor, perm, Need)
        .filter(customer__deleted_at__isnull=True)
        .select_related("customer", "author")
        .get(pk=pk)
    )


def _counts(needs: QuerySet[Need], field: str) -> dict[str, int]:
    rows = needs.order_by().values(field).annotate(n=Count("id"))
    return {row[field]: row["n"] for row in rows}


def need_summary(*, actor: Any, filters: NeedFilters | None = None) -> dict[str, Any]:
    """Counts of the needs ``need_list`` would show, every category listed (zeros too)."""
    needs = need_list(actor=actor, filters=filters).order_by()
    pairs = {
        (row["domain"], row["nature"]): row["n"]
        for row in needs.values("domain", "nature").annotate(n=Count("id"))
    }
    by_factor = _counts(needs, "factor")
    by_source = _counts(needs, "source")
    by_status = _counts(needs, "status")
    return {
        "total": sum(pairs.values()),
        "by_domain_nature": [
            {
                "domain": domain.value,
                "domain_label": str(domain.label),
                "nature": nature.value,
                "nature_label": str(nature.label),
                "count": pairs.get((domain.value, nature.value), 0),
            }
            for domain in NeedDomain
            for nature in NeedNature
        ],
        "by_factor": [
            {"value": f.value, "label": str(f.label), "count": by_factor.get(f.value, 0)}
            for f in DecisionFactor
        ],
        "by_source": [
            {"value": s.value, "label": str(s.label), "count": by_source.get(s.value, 0)}
            for s in NeedSource
        ],
        "by_status": [
            {"value": s.value, "label": str(s.label), "count": by_status.get(s.value, 0)}
            for s in NeedStatus
        ],
    }

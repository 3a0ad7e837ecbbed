"""Reads of the customer file, always scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers import search_keys
from kehu.customers.models import Customer, CustomerChange, Interaction

STALE_AFTER = timedelta(days=180)


@dataclass(frozen=True)
class CustomerFilters:
    q: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    stage: str = ""
    tier: str = ""
    tag: str = ""
    source: str = ""
    city: str = ""
    stale_only: bool = False


def search_condition(q: str) -> Q | None:
    """Names, companies, pinyin and initials, phone fragments, email, WeChat, tags."""
    q = (q or "").strip().lower()
    if not q:
        return None
    condition = Q(search_text__contains=q)
    digits = search_keys.digits(q)
    if digits and len(digits) >= 3 and digits == q.replace(" ", "").replace("-", ""):
        condition |= Q(search_text__contains=digits)
    condition |= Q(
        pk__in=Customer.tags.through.objects.filter(tag__name__iexact=q).values("customer_id")
    )
    return condition


def customer_list(*, actor: Any, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Customers the actor may see, filtered and newest-changed first."""
    filters = filters or CustomerFilters()
    customers = scoped(actor, Perm.VIEW_CUSTOMERS, Customer).select_related("owner", "team")
    condition = search_condition(filters.q)
    if condition is not None:
        customers = customers.filter(condition)
    if filters.owner_id:
        customers = customers.filter(owner_id=filters.owner_id)
    if filters.team_id:
        customers = customers.filter(team_id=filters.team_id)
    for name in ("stage", "tier", "source"):
        value = getattr(filters, name)
        if value:
            customers = customers.filter(**{name: value})
    if filters.city:
        customers = customers.filter(city=filters.city)
    if filters.tag:
        customers = customers.filter(tags__name__iexact=filters.tag)
    if filters.stale_only:
        customers = customers.filter(
            Q(verified_at__isnull=True) | Q(verified_at__lt=timezone.now() - STALE_AFTER)
        )
    return customers.order_by("-updated_at", "-id")


def customer_get(*, actor: Any, pk: int) -> Customer:
    """One visible customer, or Customer.DoesNotExist (pages and API answer 404)."""
    return customer_list(actor=actor).prefetch_related("tags", "contacts").get(pk=pk)


def pool_list(*, actor: Any, q: str = "") -> QuerySet[Customer]:
    """The public pool (公海): customers without an owner, for those who may claim."""
    if not has_perm(actor, Perm.CLAIM_CUSTOMERS):
        return Customer.objects.none()
    customers = Customer.objects.filter(owner__isnull=True)
    condition = search_condition(q)
    if condition is not None:
        customers = customers.filter(condition)
    return customers.order_by("-pooled_at", "-id")


def customer_changes(*, actor: Any, customer: Customer) -> QuerySet[CustomerChange]:
    if not customer_list(actor=actor).filter(pk=customer.pk).exists():
        return CustomerChange.objects.none()
    return customer.changes.select_related("actor").order_by("-changed_at", "-id")


def idle_since() -> Greatest:
    """When a customer last saw attention: its last contact or when its owner took it,
    whichever is later (for annotate/alias)."""
    return Greatest(
        Coalesce("last_contact_at", "assigned_at", "created_at"),
        Coalesce("assigned_at", "last_contact_at", "created_at"),
    )


def returning_soon(*, actor: Any) -> QuerySet[Customer]:
    """The actor's customers that go back to the pool within KEHU_POOL_WARNING_DAYS."""
    days = settings.KEHU_POOL_RETURN_DAYS
    if days <= 0 or not has_perm(actor, Perm.VIEW_CUSTOMERS):
        return Customer.objects.none()
    now = timezone.now()
    warn = now - timedelta(days=days - settings.KEHU_POOL_WARNING_DAYS)
    return (
        Customer.objects.filter(owner=actor)
        .alias(idle_since=idle_since())
        .filter(idle_since__lt=warn)
    )


def is_stale(customer: Customer) -> bool:
    return customer.verified_at is None or customer.verified_at < timezone.now() - STALE_AFTER


def interaction_list(*, actor: Any, customer: Customer) -> QuerySet[Interaction]:
    """The customer's timeline, newest first, if the actor may see the customer."""
    return (
        scoped(actor, Perm.VIEW_CUSTOMERS, Interaction)
        .filter(customer=customer)
        .select_related("author")
    )


def followups_due(*, actor: Any) -> QuerySet[Interaction]:
    """Open next steps the actor wrote, due today or earlier (or without a date)."""
    if not has_perm(actor, Perm.VIEW_CUSTOMERS):
        return Interaction.objects.none()
    return (
        Interaction.objects.filter(author=actor, next_step_done=False, customer__owner=actor)
        .exclude(next_step="")
        .filter(Q(next_step_due__isnull=True) | Q(next_step_due__lte=timezone.localdate()))
        .select_related("customer")
        .order_by("next_step_due", "-happened_at")
    )

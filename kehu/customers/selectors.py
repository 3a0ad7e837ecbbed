"""Reads of the customer file, always scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers import filtering, search
from kehu.customers.models import Contact, Customer, CustomerChange, Interaction

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
    province: str = ""
    district: str = ""
    created_from: date | None = None
    created_to: date | None = None
    contact_from: date | None = None
    contact_to: date | None = None
    sort: str = ""  # a key of kehu.customers.filtering.SORTS; the default otherwise


def search_condition(
    q: str, *, within: QuerySet[Customer] | None = None, walkable: bool = True
) -> Q | None:
    """Names, companies, pinyin and initials, phone fragments, email, WeChat, tags: see
    kehu.customers.search for the rules and how they stay fast at a million customers
    (``within``, the actor's scope, lets a common term skip the index probe)."""
    return search.search_condition(q, within=within, walkable=walkable)


def customer_list(*, actor: Any, filters: CustomerFilters | None = None) -> QuerySet[Customer]:
    """Customers the actor may see, filtered and newest-changed first."""
    filters = filters or CustomerFilters()
    visible = scoped(actor, Perm.VIEW_CUSTOMERS, Customer)
    # Owner and team come by id for the page only: joining them first would join every
    # match of a search (thousands) before the sort picks 50.
    customers = visible.prefetch_related("owner", "team")
    condition = search_condition(
        filters.q, within=visible, walkable=filters.sort not in filtering.CLUSTERED_SORTS
    )
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
    if filters.province:
        customers = customers.filter(province=filters.province)
    if filters.district:
        customers = customers.filter(district=filters.district)
    if filters.created_from:
        customers = customers.filter(created_at__gte=filtering.day_start(filters.created_from))
    if filters.created_to:
        customers = customers.filter(created_at__lt=filtering.day_after(filters.created_to))
    if filters.contact_from:
        customers = customers.filter(last_contact_at__gte=filtering.day_start(filters.contact_from))
    if filters.contact_to:
        customers = customers.filter(last_contact_at__lt=filtering.day_after(filters.contact_to))
    return customers.order_by(*filtering.order_for(filters.sort, searching=condition is not None))


def with_tag_names(customers: list[Customer]) -> list[Customer]:
    """Set ``tag_names`` (sorted) on each customer of a page, in one query: what the API
    shows of the tags. Django's prefetch of the many-to-many builds a manager and a Tag
    per row, ~5 ms of Python for a page of 50, a fifth of a search's time."""
    names: dict[int, list[str]] = {customer.pk: [] for customer in customers}
    if names:
        pairs = Customer.tags.through.objects.filter(customer_id__in=list(names))
        for customer_id, name in pairs.values_list("customer_id", "tag__name"):
            names[customer_id].append(name)
    for customer in customers:
        customer.tag_names = sorted(names[customer.pk])  # type: ignore[attr-defined]
    return customers


def customer_get(*, actor: Any, pk: int) -> Customer:
    """One visible customer, or Customer.DoesNotExist (pages and API answer 404)."""
    return customer_list(actor=actor).prefetch_related("tags", "contacts").get(pk=pk)


def pool_list(*, actor: Any, q: str = "") -> QuerySet[Customer]:
    """The public pool (公海): customers without an owner, for those who may claim."""
    if not has_perm(actor, Perm.CLAIM_CUSTOMERS):
        return Customer.objects.none()
    customers = Customer.objects.filter(owner__isnull=True)
    condition = search_condition(q, within=customers)
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


# --- Contacts ----------------------------------------------------------------------------


def contact_list(*, actor: Any, customer: Customer) -> QuerySet[Contact]:
    """The contacts of a customer the actor may see: primary first, then by name."""
    return scoped(actor, Perm.VIEW_CUSTOMERS, Contact).filter(
        customer=customer, customer__deleted_at__isnull=True
    )


def contact_get(*, actor: Any, pk: int, perm: str = Perm.VIEW_CUSTOMERS) -> Contact:
    """One contact of a live customer the actor may act on with ``perm``, or
    Contact.DoesNotExist (pages and the API answer 404)."""
    return (
        scoped(actor, perm, Contact)
        .filter(customer__deleted_at__isnull=True)
        .select_related("customer")
        .get(pk=pk)
    )


# --- Duplicates and deleted customers (merge and restore) ---------------------------------


def likely_duplicates(
    *,
    actor: Any,
    name: str = "",
    company: str = "",
    mobile: str = "",
    email: str = "",
    city: str = "",
    kind: str = "",
    exclude_id: int | None = None,
) -> list[Any]:
    """Existing customers that look like these values, with the reasons (same mobile,
    email, name + company, pinyin + city) and whose they are; details only where the actor
    may see them. See kehu.customers.duplicates."""
    from kehu.customers.duplicates import likely_duplicates as find

    return find(
        actor=actor,
        name=name,
        company=company,
        mobile=mobile,
        email=email,
        city=city,
        kind=kind,
        exclude_id=exclude_id,
    )


def deleted_customers(*, actor: Any, q: str = "") -> QuerySet[Customer]:
    """Deleted (not merged) customers the actor may restore, most recently deleted first.
    They stay restorable until the purge job removes them (KEHU_PURGE_AFTER_DAYS)."""
    deleted = Customer.all_objects.filter(deleted_at__isnull=False, merged_into__isnull=True)
    customers = scoped(actor, Perm.RESTORE_CUSTOMERS, deleted).select_related("owner")
    condition = search_condition(q)
    if condition is not None:
        customers = customers.filter(condition)
    return customers.order_by("-deleted_at", "-id")


def merge_candidates(
    *, actor: Any, ids: list[int], include_deleted: bool = False
) -> list[Customer]:
    """The customers among ``ids`` that the actor may merge, in the order given (live ones,
    or also deleted and merged ones, to tell "gone meanwhile" from "not yours")."""
    source = Customer.all_objects.all() if include_deleted else Customer.objects.all()
    rows = scoped(actor, Perm.MERGE_CUSTOMERS, source).filter(pk__in=ids).select_related("owner")
    by_id = {c.pk: c for c in rows.prefetch_related("tags")}
    return [by_id[pk] for pk in ids if pk in by_id]


# --- Custody: who looked at a customer file (the lending book) -------------------------------


def may_view_file_access(*, actor: Any, customer: Customer) -> bool:
    """The customer's owner and roles with ``customers.view_access`` may read its lending
    book, if they may see the customer at all."""
    if not customer_list(actor=actor).filter(pk=customer.pk).exists():
        return False
    return customer.owner_id == getattr(actor, "pk", None) or has_perm(actor, Perm.VIEW_FILE_ACCESS)


def file_access_log(*, actor: Any, customer: Customer) -> QuerySet[Any]:
    """Audit events of one customer (views, reveals, exports, edits …), newest first; none
    for a reader who may not see them. Served by the audit log's object index."""
    from kehu.core.models import AuditEvent

    if not may_view_file_access(actor=actor, customer=customer):
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(object_type="customers.customer", object_id=str(customer.pk))
        .select_related("actor")
        .order_by("-id")
    )


def merged_survivor(*, actor: Any, pk: int) -> Customer | None:
    """The live customer that ``pk`` was merged into (following chains A→B→C), if the actor
    may see it; else None."""
    from kehu.customers.merging import survivor_of

    survivor = survivor_of(pk)
    if survivor is None or not customer_list(actor=actor).filter(pk=survivor.pk).exists():
        return None
    return survivor

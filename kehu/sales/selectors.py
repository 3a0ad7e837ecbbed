"""Reads of sales records, always scoped to the actor.

Orders, contracts and opportunities are scoped by the salesperson they are credited to
(owner / team / department). A customer's own file shows all of that customer's sales to
whoever may see the customer. Sums and counts are computed in the database.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.customers.selectors import search_condition
from kehu.sales.choices import ContractStatus, OpportunityStatus, OrderStatus
from kehu.sales.models import Contract, Opportunity, Order, PipelineStage, Product, Quota
from kehu.sales.money import ZERO, cents
from kehu.sales.quotas import period_end, period_start

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
NET = ExpressionWrapper(F("total") - F("refunded_total"), output_field=MONEY_FIELD)


def _money_sum(expression: Any) -> Coalesce:
    return Coalesce(
        Sum(expression, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
    )


# --- catalogue ----------------------------------------------------------------------


def product_list(*, actor: Any, q: str = "", active_only: bool = False) -> QuerySet[Product]:
    if not (has_perm(actor, Perm.VIEW_SALES) or has_perm(actor, Perm.MANAGE_CATALOGUE)):
        return Product.objects.none()
    products = Product.objects.all()
    if active_only:
        products = products.filter(is_active=True)
    q = (q or "").strip()[:100]
    if q:
        products = products.filter(
            Q(code__icontains=q)
            | Q(name_en__icontains=q)
            | Q(name_zh_hans__icontains=q)
            | Q(name_zh_hant__icontains=q)
            | Q(category__icontains=q)
        )
    return products


def stage_list(*, active_only: bool = True) -> QuerySet[PipelineStage]:
    stages = PipelineStage.objects.all()
    return stages.filter(is_active=True) if active_only else stages


# --- orders -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""  # order number, consumer label, or the customer search
    customer_id: int | None = None
    owner_id: int | None = None
    channel: str = ""
    status: str = ""
    payment_status: str = ""
    delivery_status: str = ""
    anonymous: bool | None = None  # True: only walk-in consumers; False: only customers
    date_from: date | None = None
    date_to: date | None = None


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def order_list(*, actor: Any, filters: OrderFilters | None = None) -> QuerySet[Order]:
    """Orders credited to people in the actor's scope, newest first."""
    filters = filters or OrderFilters()
    orders = scoped(actor, Perm.VIEW_SALES, Order)
    if filters.customer_id:
        orders = orders.filter(customer_id=filters.customer_id)
    if filters.owner_id:
        orders = orders.filter(owner_id=filters.owner_id)
    for name in ("channel", "status", "payment_status", "delivery_status"):
        value = getattr(filters, name)
        if value:
            orders = orders.filter(**{name: value})
    if filters.anonymous is not None:
        orders = orders.filter(customer__isnull=filters.anonymous)
    if filters.date_from:
        orders = orders.filter(ordered_at__gte=day_start(filters.date_from))
    if filters.date_to:
        orders = orders.filter(ordered_at__lt=day_start(filters.date_to + timedelta(days=1)))
    q = (filters.q or "").strip()[:100]
    if q:
        condition = Q(number__iexact=q) | Q(consumer_label__icontains=q)
        customers = search_condition(q)
        if customers is not None:
            condition |= Q(customer__in=Customer.objects.filter(customers).values("pk"))
        orders = orders.filter(condition)
    return orders.order_by("-ordered_at", "-id")


def order_get(*, actor: Any, pk: int, perm: str = Perm.VIEW_SALES) -> Order:
    """One order the actor may see through its credit or through its customer."""
    visible = scoped(actor, perm, Order)
    found = visible.filter(pk=pk).first()
    if found is None and perm == Perm.VIEW_SALES:
        customers = scoped(actor, Perm.VIEW_CUSTOMERS, Customer)
        found = Order.objects.filter(pk=pk, customer__in=customers.values("pk")).first()
    if found is None:
        raise Order.DoesNotExist
    return found


def orders_of_customer(*, customer: Customer) -> QuerySet[Order]:
    """A customer's orders, for whoever may see the customer (the caller checked)."""
    return Order.objects.filter(customer=customer).order_by("-ordered_at", "-id")


@dataclass(frozen=True)
class CustomerSales:
    orders: int
    lifetime_total: Decimal  # confirmed orders, net of refunds
    paid: Decimal
    outstanding: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    open_opportunities: int
    open_pipeline: Decimal
    active_contracts: int


def customer_sales(*, customer: Customer) -> CustomerSales:
    """Lifetime figures of one customer: two aggregate queries on indexed columns."""
    figures = Order.objects.filter(customer=customer, status=OrderStatus.CONFIRMED).aggregate(
        n_orders=Count("id"),
        net_sum=_money_sum(NET),
        paid_sum=_money_sum(F("paid_total") - F("refunded_total")),
        owed_sum=_money_sum(F("total") - F("paid_total")),
        first=Min("ordered_at"),
        last=Max("ordered_at"),
    )
    pipeline = Opportunity.objects.filter(
        customer=customer, status=OpportunityStatus.OPEN
    ).aggregate(n=Count("id"), amount=_money_sum("amount"))
    contracts = Contract.objects.filter(
        customer=customer, status__in=(ContractStatus.ACTIVE, ContractStatus.EXPIRING)
    ).count()
    return CustomerSales(
        orders=figures["n_orders"],
        lifetime_total=cents(figures["net_sum"]),
        paid=cents(figures["paid_sum"]),
        outstanding=cents(figures["owed_sum"]),
        first_order_at=figures["first"],
        last_order_at=figures["last"],
        open_opportunities=pipeline["n"],
        open_pipeline=cents(pipeline["amount"]),
        active_contracts=contracts,
    )


# --- contracts ----------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFilters:
    q: str = ""
    customer_id: int | None = None
    owner_id: int | None = None
    status: str = ""
    ending_before: date | None = None
    expired_not_renewed: bool = False


def contract_list(*, actor: Any, filters: ContractFilters | None = None) -> QuerySet[Contract]:
    filters = filters or ContractFilters()
    contracts = scoped(actor, Perm.VIEW_SALES, Contract)
    if filters.customer_id:
        contracts = contracts.filter(customer_id=filters.customer_id)
    if filters.owner_id:
        contracts = contracts.filter(owner_id=filters.owner_id)
    if filters.status:
        contracts = contracts.filter(status=filters.status)
    if filters.ending_before:
        contracts = contracts.filter(ends_on__lte=filters.ending_before)
    if filters.expired_not_renewed:
        contracts = contracts.filter(status=ContractStatus.EXPIRED)
    q = (filters.q or "").strip()[:100]
    if q:
        condition = Q(number__icontains=q) | Q(title__icontains=q)
        customers = search_condition(q)
        if customers is not None:
            condition |= Q(customer__in=Customer.objects.filter(customers).values("pk"))
        contracts = contracts.filter(condition)
    return contracts.order_by("ends_on", "id")


def contract_get(*, actor: Any, pk: int, perm: str = Perm.VIEW_SALES) -> Contract:
    found = scoped(actor, perm, Contract).filter(pk=pk).first()
    if found is None and perm == Perm.VIEW_SALES:
        customers = scoped(actor, Perm.VIEW_CUSTOMERS, Customer)
        found = Contract.objects.filter(pk=pk, customer__in=customers.values("pk")).first()
    if found is None:
        raise Contract.DoesNotExist
    return found


def contracts_ending(*, actor: Any) -> QuerySet[Contract]:
    """The actor's own contracts whose end reminder has been raised."""
    return scoped(actor, Perm.VIEW_SALES, Contract).filter(
        owner=actor, status=ContractStatus.EXPIRING
    )


# --- pipeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class OpportunityFilters:
    q: str = ""
    customer_id: int | None = None
    owner_id: int | None = None
    stage_id: int | None = None
    status: str = OpportunityStatus.OPEN  # "" for all


def opportunity_list(
    *, actor: Any, filters: OpportunityFilters | None = None
) -> QuerySet[Opportunity]:
    filters = filters or OpportunityFilters()
    opportunities = scoped(actor, Perm.VIEW_SALES, Opportunity)
    for name in ("customer_id", "owner_id", "stage_id"):
        value = getattr(filters, name)
        if value:
            opportunities = opportunities.filter(**{name: value})
    if filters.status:
        opportunities = opportunities.filter(status=filters.status)
    q = (filters.q or "").strip()[:100]
    if q:
        condition = Q(title__icontains=q)
        customers = search_condition(q)
        if customers is not None:
            condition |= Q(customer__in=Customer.objects.filter(customers).values("pk"))
        opportunities = opportunities.filter(condition)
    return opportunities.select_related("customer", "stage", "owner").order_by(
        F("expected_close").asc(nulls_last=True), "id"
    )


def opportunity_get(*, actor: Any, pk: int, perm: str = Perm.VIEW_SALES) -> Opportunity:
    found = scoped(actor, perm, Opportunity).filter(pk=pk).first()
    if found is None:
        raise Opportunity.DoesNotExist
    return found


@dataclass
class BoardColumn:
    stage: PipelineStage
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO
    cards: list[Opportunity] = field(default_factory=list)


def pipeline_board(
    *, actor: Any, filters: OpportunityFilters | None = None, per_stage: int = 50
) -> list[BoardColumn]:
    """The open opportunities by stage: counts and sums for every stage (GROUP BY) and
    the first ``per_stage`` cards of each, soonest expected close first."""
    filters = filters or OpportunityFilters()
    base = opportunity_list(actor=actor, filters=filters)
    columns = {stage.pk: BoardColumn(stage) for stage in stage_list()}
    for row in base.order_by().values("stage_id").annotate(n=Count("id"), s=_money_sum("amount")):
        column = columns.get(row["stage_id"])
        if column is not None:
            column.count, column.amount = row["n"], cents(row["s"])
            column.weighted = (column.amount * column.stage.probability / 100).quantize(
                Decimal("0.01")
            )
    for column in columns.values():
        if column.count:
            column.cards = list(base.filter(stage=column.stage)[:per_stage])
    return list(columns.values())


# --- quotas -------------------------------------------------------------------------


def company_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def period_bounds(period: str, starts_on: date) -> tuple[datetime, datetime]:
    """The period as [start, end) instants in the company's time zone."""
    zone = company_zone()
    end = period_end(period, starts_on)
    return (
        datetime.combine(starts_on, time.min, tzinfo=zone),
        datetime.combine(end, time.min, tzinfo=zone),
    )


def _credited(
    orders: QuerySet[Order], *, user_id: int | None, team_id: int | None
) -> QuerySet[Order]:
    if user_id:
        return orders.filter(owner_id=user_id)
    return orders.filter(team_id=team_id) if team_id else orders.none()


def actual_sales(
    *, user_id: int | None = None, team_id: int | None = None, start: datetime, end: datetime
) -> tuple[Decimal, int]:
    """What a person or a team sold in [start, end): confirmed orders net of refunds, and
    the customers whose first confirmed order falls in the period (new customers)."""
    confirmed = Order.objects.filter(status=OrderStatus.CONFIRMED)
    in_period = _credited(
        confirmed.filter(ordered_at__gte=start, ordered_at__lt=end),
        user_id=user_id,
        team_id=team_id,
    )
    # SQLite sums decimals as text-less numbers (888, not 888.00): back to cents.
    amount = cents(in_period.aggregate(s=_money_sum(NET))["s"])
    earlier = confirmed.filter(customer_id=OuterRef("customer_id"), ordered_at__lt=start)
    new_customers = (
        in_period.filter(customer__isnull=False)
        .filter(~Exists(earlier))
        .values("customer_id")
        .distinct()
        .count()
    )
    return amount, new_customers


@dataclass(frozen=True)
class Attainment:
    quota: Quota
    label: str
    actual: Decimal
    new_customers: int
    percent: Decimal | None  # actual / target × 100, one decimal; None for a zero target
    new_customers_percent: Decimal | None
    rank: int | None = None  # among people in the same period (1 = best)


def _percent(actual: Decimal, target: Decimal | int | None) -> Decimal | None:
    if not target:
        return None
    return (Decimal(actual) * 100 / Decimal(target)).quantize(Decimal("0.1"))


def quota_list(*, actor: Any) -> QuerySet[Quota]:
    return scoped(actor, Perm.VIEW_SALES, Quota).select_related("user", "team")


def quota_attainment(*, actor: Any, period: str, starts_on: date) -> list[Attainment]:
    """Every quota the actor may see for one period, with what was actually sold; people
    are ranked by attainment (then by amount)."""
    starts_on = period_start(period, starts_on)
    start, end = period_bounds(period, starts_on)
    rows = []
    for quota in quota_list(actor=actor).filter(period=period, starts_on=starts_on):
        amount, new = actual_sales(
            user_id=quota.user_id,
            team_id=None if quota.user_id else quota.team_id,
            start=start,
            end=end,
        )
        person = quota.user
        label = (person.name or person.username) if person is not None else str(quota.team)
        rows.append(
            Attainment(
                quota=quota,
                label=label,
                actual=amount,
                new_customers=new,
                percent=_percent(amount, quota.amount),
                new_customers_percent=_percent(Decimal(new), quota.new_customers),
            )
        )
    people = sorted(
        (r for r in rows if r.quota.user_id),
        key=lambda r: (-(r.percent if r.percent is not None else Decimal(-1)), -r.actual),
    )
    ranked = {id(r): n for n, r in enumerate(people, start=1)}
    result = [Attainment(**{**r.__dict__, "rank": ranked.get(id(r))}) for r in rows]
    return sorted(result, key=lambda r: (r.quota.user_id is None, r.rank or 0, r.label))


def sales_trend(
    *,
    user_id: int | None = None,
    team_id: int | None = None,
    months: int = 12,
    today: date | None = None,
) -> list[tuple[date, Decimal]]:
    """Monthly net sales of a person or a team for the last ``months`` months (this one
    included), oldest first."""
    today = today or timezone.localdate(timezone=company_zone())
    first = period_start("month", today)
    starts = []
    for _n in range(months):
        starts.append(first)
        first = period_start("month", first - timedelta(days=1))
    starts.reverse()
    result = []
    for month in starts:
        start, end = period_bounds("month", month)
        amount, _new = actual_sales(user_id=user_id, team_id=team_id, start=start, end=end)
        result.append((month, amount))
    return result


def people_for_quotas(*, actor: Any) -> QuerySet[Any]:
    """Colleagues the actor may set quotas for."""
    return scoped(actor, Perm.MANAGE_QUOTAS, get_user_model()).filter(is_active=True)

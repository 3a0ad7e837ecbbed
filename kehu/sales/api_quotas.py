"""API endpoints of sales plans and quotas (销售计划/销售定额), attainment and trend."""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from kehu.accounts.models import Team
from kehu.core.access import AccessDenied, has_perm, require, scope_of, scoped
from kehu.core.api import ERRORS, WRITE_ERRORS, IsoDate
from kehu.core.permissions import Perm, Scope
from kehu.sales import selectors, services
from kehu.sales.api_common import DAY_CURSOR, MAX_ID, keyset_page, not_found
from kehu.sales.choices import QuotaPeriod
from kehu.sales.models import Quota
from kehu.sales.quotas import period_end, period_start
from kehu.sales.schemas_quotas import (
    AttainmentOut,
    PeriodT,
    QuotaFilterQuery,
    QuotaIn,
    QuotaOut,
    QuotaPage,
    QuotaPatch,
    TrendOut,
)

router = Router(tags=["sales"])


def _quota(request: HttpRequest, quota_id: int) -> Quota:
    try:
        found = scoped(request.user, Perm.MANAGE_QUOTAS, Quota).filter(pk=quota_id).first()
    except OverflowError:
        found = None
    if found is None:
        raise not_found()
    return found


def _team_visible(actor: Any, team_id: int) -> bool:
    """Whether the actor may see a team's sales: their scope covers the team."""
    if not has_perm(actor, Perm.VIEW_SALES):
        return False
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return False
    scope = scope_of(actor)
    if scope == Scope.ALL:
        return True
    if scope == Scope.DEPARTMENT and actor.department_id:
        return team.department_id == actor.department_id
    if scope == Scope.TEAM and actor.team_id:
        return team.pk == actor.team_id
    return False


def _person_visible(actor: Any, user_id: int) -> bool:
    return scoped(actor, Perm.VIEW_SALES, get_user_model()).filter(pk=user_id).exists()


@router.get("/quotas", response={200: QuotaPage, **ERRORS}, summary="Sales plans and quotas")
@require(Perm.VIEW_SALES)
def list_quotas(
    request: HttpRequest,
    filters: Query[QuotaFilterQuery],
    cursor: str = Query(
        "", max_length=40, pattern=DAY_CURSOR, description="`next_cursor` of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Your own quota, and as a manager your people's and your team's; latest period
    first. Keyset pages."""
    quotas = selectors.quota_list(actor=request.user)
    if filters.period:
        quotas = quotas.filter(period=filters.period)
    if filters.starts_on:
        periods = [filters.period] if filters.period else QuotaPeriod.values
        condition = Q()
        for period in periods:
            condition |= Q(period=period, starts_on=period_start(period, filters.starts_on))
        quotas = quotas.filter(condition)
    if filters.user_id:
        quotas = quotas.filter(user_id=filters.user_id)
    if filters.team_id:
        quotas = quotas.filter(team_id=filters.team_id, user__isnull=True)
    return keyset_page(
        quotas.order_by("-starts_on", "id"),
        cursor=cursor,
        limit=limit,
        field="starts_on",
        kind="day",
        descending=True,
        id_descending=False,
    )


@router.post(
    "/quotas", response={201: QuotaOut, **WRITE_ERRORS}, summary="Set a person's or a team's quota"
)
@require(Perm.MANAGE_QUOTAS)
def create_quota(request: HttpRequest, payload: QuotaIn) -> Any:
    """For a person (`user_id`) or a team (`team_id`) in your scope — exactly one. A
    second quota for the same period is 409 `duplicate`."""
    if (payload.user_id is None) == (payload.team_id is None):
        message = _("Set the quota for a person or for a team.")
        raise ValidationError({"user_id": message, "team_id": message})
    data = payload.dict()
    user_id, team_id = data.pop("user_id"), data.pop("team_id")
    try:
        quota = services.quota_create(actor=request.user, user=user_id, team=team_id, **data)
    except AccessDenied:
        raise HttpError(404, "user_id" if user_id else "team_id") from None
    return Status(201, Quota.objects.select_related("user", "team").get(pk=quota.pk))


@router.get(
    "/quotas/attainment",
    response={200: AttainmentOut, **ERRORS},
    summary="Attainment: actual sales against every quota of a period",
)
@require(Perm.VIEW_SALES)
def quota_attainment(
    request: HttpRequest,
    period: PeriodT = QuotaPeriod.MONTH,
    starts_on: IsoDate | None = None,
) -> Any:
    """Every quota you may see for the period (`starts_on`: any day of it, default
    today), with what was sold (confirmed orders net of refunds) and new customers;
    people are ranked by attainment."""
    day = period_start(period, starts_on or timezone.localdate())
    rows = selectors.quota_attainment(actor=request.user, period=period, starts_on=day)
    return {
        "period": period,
        "starts_on": day,
        "ends_on": period_end(period, day) - timedelta(days=1),
        "rows": [row.__dict__ for row in rows],
    }


@router.get(
    "/quotas/trend",
    response={200: TrendOut, **ERRORS},
    summary="Monthly sales of a person or a team",
)
@require(Perm.VIEW_SALES)
def sales_trend(
    request: HttpRequest,
    user_id: int | None = Query(None, ge=1, le=MAX_ID),
    team_id: int | None = Query(None, ge=1, le=MAX_ID),
    months: int = Query(12, ge=1, le=36),
) -> Any:
    """Net sales per month for the last `months` months, this one included, oldest
    first; for yourself, or for a person or team in your scope (404 otherwise)."""
    if (user_id is None) == (team_id is None):
        message = _("Ask for a person or for a team.")
        raise ValidationError({"user_id": message, "team_id": message})
    if user_id is not None and not _person_visible(request.user, user_id):
        raise HttpError(404, "user_id")
    if team_id is not None and not _team_visible(request.user, team_id):
        raise HttpError(404, "team_id")
    trend = selectors.sales_trend(user_id=user_id, team_id=team_id, months=months)
    return {
        "user_id": user_id,
        "team_id": team_id,
        "months": [{"month": month, "amount": amount} for month, amount in trend],
    }


@router.patch(
    "/quotas/{quota_id}", response={200: QuotaOut, **WRITE_ERRORS}, summary="Change a quota"
)
@require(Perm.MANAGE_QUOTAS)
def update_quota(request: HttpRequest, quota_id: int, payload: QuotaPatch) -> Any:
    quota = _quota(request, quota_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    quota = services.quota_update(actor=request.user, quota=quota, expected_version=version, **data)
    return Quota.objects.select_related("user", "team").get(pk=quota.pk)


@router.delete("/quotas/{quota_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a quota")
@require(Perm.MANAGE_QUOTAS)
def delete_quota(
    request: HttpRequest, quota_id: int, version: int = Query(..., ge=1, le=MAX_ID)
) -> Any:
    """Soft delete: restorable."""
    quota = _quota(request, quota_id)
    services.quota_delete(actor=request.user, quota=quota, expected_version=version)
    return Status(204, None)

"""API endpoints of customer needs (需求)."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get
from kehu.needs import selectors, services
from kehu.needs.models import Need
from kehu.needs.schemas import (
    NeedFilterQuery,
    NeedIn,
    NeedOut,
    NeedPage,
    NeedPatch,
    NeedSummaryOut,
)
from kehu.needs.selectors import NeedFilters

router = Router(tags=["needs"])

MAX_ID = 2**63 - 1


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    try:
        return customer_get(actor=request.user, pk=customer_id)
    except (Customer.DoesNotExist, OverflowError):
        raise HttpError(404, "not found") from None


def _need(request: HttpRequest, need_id: int, perm: str) -> Need:
    try:
        return selectors.need_get(actor=request.user, pk=need_id, perm=perm)
    except (Need.DoesNotExist, OverflowError):
        raise HttpError(404, "not found") from None


@router.get(
    "/customers/{customer_id}/needs",
    response={200: list[NeedOut], **ERRORS},
    summary="The needs learnt from a customer",
)
@require(Perm.VIEW_CUSTOMERS)
def list_customer_needs(
    request: HttpRequest, customer_id: int, limit: int = Query(100, ge=1, le=500)
) -> Any:
    customer = _customer(request, customer_id)
    needs = selectors.needs_of_customer(actor=request.user, customer=customer)
    return list(needs.select_related("customer")[:limit])


@router.post(
    "/customers/{customer_id}/needs",
    response={201: NeedOut, **WRITE_ERRORS},
    summary="Record a need learnt from a customer",
)
@require(Perm.CHANGE_CUSTOMERS)
def create_need(request: HttpRequest, customer_id: int, payload: NeedIn) -> Any:
    customer = _customer(request, customer_id)
    need = services.need_create(actor=request.user, customer=customer, **payload.dict())
    return Status(201, need)


@router.get("/needs", response={200: NeedPage, **ERRORS}, summary="Needs across customers")
@require(Perm.VIEW_CUSTOMERS)
def list_needs(
    request: HttpRequest,
    filters: Query[NeedFilterQuery],
    cursor: str = Query(
        "", max_length=18, pattern=r"^[0-9]*$", description="`next_cursor` of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Keyset pagination by id, newest first: deep pages cost the same as the first."""
    needs = selectors.need_list(actor=request.user, filters=NeedFilters(**filters.dict()))
    needs = needs.order_by("-id")
    if cursor:
        needs = needs.filter(id__lt=int(cursor))
    items = list(needs.select_related("customer")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": str(items[-1].pk) if more else None}


@router.get(
    "/needs/summary",
    response={200: NeedSummaryOut, **ERRORS},
    summary="Needs counted by domain × nature, decision factor, source and status",
)
@require(Perm.VIEW_CUSTOMERS)
def needs_summary(request: HttpRequest, filters: Query[NeedFilterQuery]) -> Any:
    """The same filters as the list; every category is listed, with zero counts too."""
    return selectors.need_summary(actor=request.user, filters=NeedFilters(**filters.dict()))


@router.get("/needs/{need_id}", response={200: NeedOut, **ERRORS}, summary="One need")
@require(Perm.VIEW_CUSTOMERS)
def get_need(request: HttpRequest, need_id: int) -> Any:
    return _need(request, need_id, Perm.VIEW_CUSTOMERS)


@router.patch(
    "/needs/{need_id}",
    response={200: NeedOut, **WRITE_ERRORS},
    summary="Change a need (its status too)",
)
@require(Perm.CHANGE_CUSTOMERS)
def update_need(request: HttpRequest, need_id: int, payload: NeedPatch) -> Any:
    need = _need(request, need_id, Perm.CHANGE_CUSTOMERS)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return services.need_update(actor=request.user, need=need, expected_version=version, **data)


@router.delete(
    "/needs/{need_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a need (restorable)",
)
@require(Perm.CHANGE_CUSTOMERS)
def delete_need(
    request: HttpRequest, need_id: int, version: int = Query(..., ge=1, le=MAX_ID)
) -> Any:
    need = _need(request, need_id, Perm.CHANGE_CUSTOMERS)
    services.need_delete(actor=request.user, need=need, expected_version=version)
    return Status(204, None)

"""API endpoints for duplicates, merging and restoring customers.

A router of its own, mounted before the customer router (kehu/api.py): its fixed paths
(``/customers/duplicates``, ``/customers/merge``) must be matched before
``/customers/{customer_id}`` would take them for an id.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.customers import selectors, services
from kehu.customers.models import Customer
from kehu.customers.schemas import CustomerOut, DuplicateQueryIn, DuplicatesOut, MergeIn

router = Router(tags=["customers"])


@router.post(
    "/customers/duplicates",
    response={200: DuplicatesOut, **ERRORS},
    summary="Likely duplicates of a customer about to be created",
)
@require(Perm.VIEW_CUSTOMERS)
def find_duplicates(request: HttpRequest, payload: DuplicateQueryIn) -> Any:
    """Same mobile, same email, same name and company, or same pinyin name and city. A
    match you may not open is still reported (whose it is), without its details."""
    matches = selectors.likely_duplicates(actor=request.user, **payload.dict())
    return {
        "matches": [
            {
                "reasons": m.reasons,
                "held_by": m.held_by,
                "owner_name": m.owner_name,
                "customer_id": m.customer_id,
                "name": m.name,
                "company": m.company,
                "city": m.city,
            }
            for m in matches
        ]
    }


@router.post(
    "/customers/merge",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Merge duplicate customers into one",
)
@require(Perm.MERGE_CUSTOMERS)
def merge_customers(request: HttpRequest, payload: MergeIn) -> Any:
    """Interactions, needs, contacts, history, referrals and tags of `other_ids` move to
    `target_id`; the others are deleted and their ids answer 308 to the survivor."""
    ids = [payload.target_id, *payload.other_ids]
    found = {c.pk: c for c in selectors.merge_candidates(actor=request.user, ids=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        gone = selectors.merge_candidates(actor=request.user, ids=missing, include_deleted=True)
        if len(gone) != len(missing):
            raise HttpError(404, "not found")
        raise ConflictError(gone[0])  # merged or deleted meanwhile
    versions = None
    if payload.versions is not None:
        versions = {item.id: item.version for item in payload.versions}
    return services.customers_merge(
        actor=request.user,
        target=found[payload.target_id],
        others=[found[pk] for pk in payload.other_ids if pk in found],
        reason=payload.reason,
        versions=versions,
        choices=payload.choices,
    )


@router.post(
    "/customers/{customer_id}/restore",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Restore a deleted customer with its related rows",
)
@require(Perm.RESTORE_CUSTOMERS)
def restore_customer(request: HttpRequest, customer_id: int) -> Any:
    try:
        return services.customer_restore(actor=request.user, customer_id=customer_id)
    except Customer.DoesNotExist:
        raise HttpError(404, "not found") from None

"""API endpoints of the customer file."""

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Status
from ninja.errors import HttpError

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS, IsoDate
from kehu.core.permissions import Perm
from kehu.core.services import record_soft_delete
from kehu.customers import custody, selectors, services
from kehu.customers.models import Contact, Customer
from kehu.customers.schemas import (
    ChangeOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    InteractionIn,
    InteractionOut,
    MergedOut,
    ReasonIn,
    RevealOut,
    TransferIn,
    TransferOut,
)
from kehu.customers.selectors import CustomerFilters

router = Router(tags=["customers"])


def _visible(request: HttpRequest, customer_id: int) -> Customer:
    try:
        return selectors.customer_get(actor=request.user, pk=customer_id)
    except Customer.DoesNotExist:
        raise HttpError(404, "not found") from None


def _encode_cursor(pk: int) -> str:
    return str(pk)


@router.get(
    "/customers", response={200: CustomerPage, **ERRORS}, summary="List and search customers"
)
@require(Perm.VIEW_CUSTOMERS)
def list_customers(
    request: HttpRequest,
    q: str = Query(
        "",
        max_length=100,
        description="Name, pinyin, initials, phone digits, email, WeChat or tag.",
    ),
    stage: str = Query("", max_length=20),
    tier: str = Query("", max_length=20),
    tag: str = Query("", max_length=50),
    city: str = Query("", max_length=50),
    owner_id: int | None = Query(None, ge=1),
    team_id: int | None = Query(None, ge=1),
    source: str = Query("", max_length=20),
    province: str = Query("", max_length=50),
    district: str = Query("", max_length=50),
    created_from: IsoDate | None = None,
    created_to: IsoDate | None = None,
    contact_from: IsoDate | None = None,
    contact_to: IsoDate | None = None,
    cursor: str = Query(
        "", max_length=19, pattern=r"^[0-9]*$", description="`next_cursor` of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Keyset pagination, newest first: pages stay fast however deep you go."""
    filters = CustomerFilters(
        q=q,
        stage=stage,
        tier=tier,
        tag=tag,
        city=city,
        owner_id=owner_id,
        team_id=team_id,
        source=source,
        province=province,
        district=district,
        created_from=created_from,
        created_to=created_to,
        contact_from=contact_from,
        contact_to=contact_to,
    )
    customers = selectors.customer_list(actor=request.user, filters=filters).order_by("-id")
    if cursor:
        customers = customers.filter(id__lt=int(cursor))
    items = list(customers.prefetch_related("tags")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": _encode_cursor(items[-1].pk) if more else None}


@router.post("/customers", response={201: CustomerOut, **WRITE_ERRORS}, summary="Create a customer")
@require(Perm.CHANGE_CUSTOMERS)
def create_customer(request: HttpRequest, payload: CustomerIn) -> Any:
    data = payload.dict()
    tags = data.pop("tags")
    return Status(201, services.customer_create(actor=request.user, tags=tags, **data))


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerOut, 308: MergedOut, **ERRORS},
    summary="One customer",
    description="A customer merged into another answers 308 with `Location` of the survivor.",
)
@require(Perm.VIEW_CUSTOMERS)
def get_customer(request: HttpRequest, customer_id: int, response: HttpResponse) -> Any:
    try:
        customer = _visible(request, customer_id)
    except HttpError:
        return _merged_redirect(request, customer_id, response)
    custody.customer_view_record(actor=request.user, customer=customer, via="api")
    return customer


@router.post(
    "/customers/{customer_id}/reveal",
    response={200: RevealOut, **ERRORS},
    summary="Reveal the masked fields (mobile, phone, ID number, addresses); audited",
)
@require(Perm.REVEAL_CUSTOMER_PII)
def reveal_customer(request: HttpRequest, customer_id: int) -> Any:
    """For roles with `customers.reveal` only (others: 404, like a customer they cannot
    see). Every call is written to the audit log as `customer.reveal`."""
    customer = _visible(request, customer_id)
    return custody.customer_reveal(actor=request.user, customer=customer, via="api")


@router.patch(
    "/customers/{customer_id}",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Change a customer",
)
@require(Perm.CHANGE_CUSTOMERS)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Any:
    customer = _visible(request, customer_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    tags = data.pop("tags", None)
    return services.customer_update(
        actor=request.user, customer=customer, expected_version=version, tags=tags, **data
    )


@router.delete(
    "/customers/{customer_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a customer (restorable)",
)
@require(Perm.DELETE_CUSTOMERS)
def delete_customer(request: HttpRequest, customer_id: int, version: int = Query(..., ge=1)) -> Any:
    customer = _visible(request, customer_id)
    record_soft_delete(actor=request.user, obj=customer, expected_version=version)
    return Status(204, None)


@router.get(
    "/customers/{customer_id}/history",
    response={200: list[ChangeOut], **ERRORS},
    summary="Field-by-field change history",
)
@require(Perm.VIEW_CUSTOMERS)
def customer_history(request: HttpRequest, customer_id: int) -> Any:
    customer = _visible(request, customer_id)
    return list(selectors.customer_changes(actor=request.user, customer=customer)[:500])


@router.post(
    "/customers/{customer_id}/claim",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Claim a customer from the public pool",
)
@require(Perm.CLAIM_CUSTOMERS)
def claim_customer(request: HttpRequest, customer_id: int) -> Any:
    try:
        return services.customer_claim(actor=request.user, customer_id=customer_id)
    except Customer.DoesNotExist:
        raise HttpError(404, "not found") from None


@router.post(
    "/customers/{customer_id}/release",
    response={200: CustomerOut, **WRITE_ERRORS},
    summary="Put a customer back into the pool",
)
@require(Perm.CHANGE_CUSTOMERS)
def release_customer(request: HttpRequest, customer_id: int, payload: ReasonIn) -> Any:
    customer = _visible(request, customer_id)
    return services.customer_release(actor=request.user, customer=customer, reason=payload.reason)


@router.post(
    "/customer-transfers",
    response={200: TransferOut, **WRITE_ERRORS},
    summary="Hand customers over to another owner",
)
@require(Perm.TRANSFER_CUSTOMERS)
def transfer_customers(request: HttpRequest, payload: TransferIn) -> Any:
    to_user = get_user_model().objects.filter(pk=payload.to_user_id).first()
    if to_user is None:
        raise HttpError(404, "to_user_id")
    moved = services.customer_transfer(
        actor=request.user,
        customers=Customer.objects.filter(pk__in=payload.customer_ids),
        to_user=to_user,
        reason=payload.reason,
    )
    return {"moved": moved}


@router.get(
    "/customer-pool", response={200: list[CustomerOut], **ERRORS}, summary="The public pool (公海)"
)
@require(Perm.CLAIM_CUSTOMERS)
def pool(
    request: HttpRequest, q: str = Query("", max_length=100), limit: int = Query(50, ge=1, le=200)
) -> Any:
    return list(selectors.pool_list(actor=request.user, q=q).prefetch_related("tags")[:limit])


@router.get(
    "/customers/{customer_id}/interactions",
    response={200: list[InteractionOut], **ERRORS},
    summary="The customer's timeline",
)
@require(Perm.VIEW_CUSTOMERS)
def list_interactions(
    request: HttpRequest, customer_id: int, limit: int = Query(100, ge=1, le=500)
) -> Any:
    customer = _visible(request, customer_id)
    return list(selectors.interaction_list(actor=request.user, customer=customer)[:limit])


@router.post(
    "/customers/{customer_id}/interactions",
    response={201: InteractionOut, **WRITE_ERRORS},
    summary="Record a call, visit, meeting, message, email or note",
)
@require(Perm.CHANGE_CUSTOMERS)
def create_interaction(request: HttpRequest, customer_id: int, payload: InteractionIn) -> Any:
    customer = _visible(request, customer_id)
    interaction = services.interaction_record(
        actor=request.user, customer=customer, **payload.dict()
    )
    return Status(201, interaction)


# --- Contacts ----------------------------------------------------------------------------


def _visible_contact(request: HttpRequest, contact_id: int, perm: str) -> Contact:
    try:
        return selectors.contact_get(actor=request.user, pk=contact_id, perm=perm)
    except Contact.DoesNotExist:
        raise HttpError(404, "not found") from None


@router.get(
    "/customers/{customer_id}/contacts",
    response={200: list[ContactOut], **ERRORS},
    summary="The customer's contacts (mobile numbers masked)",
)
@require(Perm.VIEW_CUSTOMERS)
def list_contacts(request: HttpRequest, customer_id: int) -> Any:
    customer = _visible(request, customer_id)
    return list(selectors.contact_list(actor=request.user, customer=customer)[:500])


@router.post(
    "/customers/{customer_id}/contacts",
    response={201: ContactOut, **WRITE_ERRORS},
    summary="Add a contact to a customer",
)
@require(Perm.CHANGE_CUSTOMERS)
def create_contact(request: HttpRequest, customer_id: int, payload: ContactIn) -> Any:
    customer = _visible(request, customer_id)
    contact = services.contact_create(actor=request.user, customer=customer, **payload.dict())
    return Status(201, contact)


@router.patch(
    "/contacts/{contact_id}",
    response={200: ContactOut, **WRITE_ERRORS},
    summary="Change a contact",
)
@require(Perm.CHANGE_CUSTOMERS)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Any:
    contact = _visible_contact(request, contact_id, Perm.CHANGE_CUSTOMERS)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return services.contact_update(
        actor=request.user, contact=contact, expected_version=version, **data
    )


@router.delete(
    "/contacts/{contact_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a contact (restorable)",
)
@require(Perm.CHANGE_CUSTOMERS)
def delete_contact(request: HttpRequest, contact_id: int, version: int = Query(..., ge=1)) -> Any:
    contact = _visible_contact(request, contact_id, Perm.CHANGE_CUSTOMERS)
    services.contact_delete(actor=request.user, contact=contact, expected_version=version)
    return Status(204, None)


# --- Duplicates, merge, restore ------------------------------------------------------------


def _merged_redirect(request: HttpRequest, customer_id: int, response: HttpResponse) -> Any:
    """308 to the survivor of a merged customer (following chains), if the caller may see
    it; otherwise 404 as for any customer they may not see."""
    survivor = selectors.merged_survivor(actor=request.user, pk=customer_id)
    if survivor is None:
        raise HttpError(404, "not found")
    response["Location"] = reverse("api:get_customer", kwargs={"customer_id": survivor.pk})
    return Status(308, {"merged_into": survivor.pk})

"""API endpoints of the customer file."""

import base64
import inspect
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS, IsoDate
from kehu.core.permissions import Perm
from kehu.core.services import record_soft_delete
from kehu.customers import custody, selectors, services
from kehu.customers.filtering import SORT_KEYS
from kehu.customers.models import Contact, Customer
from kehu.customers.schemas import (
    LIST_DEFAULT_SORT,
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
    ListSortT,
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


# Where the next page starts: the last row shown. In the default order (newest id first)
# the cursor is that row's id, as it always was. In any other sort it is an opaque URL-safe
# token, base64 of the JSON [sort, sort value, id] (a time as whole microseconds since
# 1970: exact and free of time zones; a customer never contacted as null), so a cursor
# carries its sort and cannot be replayed under another.
MAX_ID = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_FIELDS = frozenset(
    key.field
    for key in SORT_KEYS.values()
    if isinstance(Customer._meta.get_field(key.field), DateTimeField)
)


def _encode_cursor(sort: str, customer: Customer) -> str:
    if sort == LIST_DEFAULT_SORT:
        return str(customer.pk)
    value = getattr(customer, SORT_KEYS[sort].field)
    if isinstance(value, datetime):
        value = (value - EPOCH) // timedelta(microseconds=1)
    token = json.dumps([sort, value, customer.pk], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": _("This cursor is not valid; start from the first page.")})


def _other_sort(sort: str) -> ValidationError:
    return ValidationError(
        {
            "cursor": _(
                "This cursor belongs to sort=%(sort)s: send that sort with it, or leave the "
                "cursor out to start from the first page."
            )
            % {"sort": sort}
        }
    )


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """The sort value and id in ``cursor``, checked against ``sort``; ValidationError
    naming ``cursor`` otherwise."""
    if cursor.isdigit():  # an id: the default order's cursor
        if sort != LIST_DEFAULT_SORT:
            raise _other_sort(LIST_DEFAULT_SORT)
        return None, int(cursor)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        token = json.loads(base64.urlsafe_b64decode(padded).decode())
    except ValueError:  # not base64, UTF-8 or JSON
        raise _bad_cursor() from None
    if not isinstance(token, list) or len(token) != 3:
        raise _bad_cursor()
    made_for, value, pk = token
    if not isinstance(made_for, str) or made_for not in SORT_KEYS:
        raise _bad_cursor()
    if type(pk) is not int or not 0 < pk <= MAX_ID:
        raise _bad_cursor()
    if made_for != sort:
        raise _other_sort(made_for)
    key = SORT_KEYS[sort]
    if value is None:
        if not key.nulls:
            raise _bad_cursor()
    elif key.field in _TIME_FIELDS:
        if type(value) is not int:
            raise _bad_cursor()
        try:
            value = EPOCH + timedelta(microseconds=value)
        except OverflowError:
            raise _bad_cursor() from None
    elif not isinstance(value, str):
        raise _bad_cursor()
    return value, pk


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
    stale_only: bool = Query(
        False,
        description=(
            "Only customers *to verify*: never verified, or last verified more than 180 "
            "days ago (the list page's `stale`)."
        ),
    ),
    sort: ListSortT = Query(
        LIST_DEFAULT_SORT,
        description=(
            "`-id` newest first (the default); the list page's sorts: `-updated`, "
            "`updated`, `-created`, `created`, `name`, `-name`, `-last_contact` (never "
            "contacted last), `last_contact` (never contacted first). Ties go by id."
        ),
    ),
    cursor: str = Query(
        "",
        max_length=2000,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="`next_cursor` of the previous page, sent with the same `sort`.",
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Keyset pagination in any sort: pages stay fast however deep you go. Unknown query
    parameters are refused (422), so a misspelt filter never silently widens the list."""
    unknown = sorted(set(request.GET) - _LIST_PARAMS)
    if unknown:
        raise ValidationError({name: _("Unknown parameter.") for name in unknown})
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
        stale_only=stale_only,
        sort="" if sort == LIST_DEFAULT_SORT else sort,
    )
    customers = selectors.customer_list(actor=request.user, filters=filters)
    key = SORT_KEYS.get(sort)
    if key is None:  # customer_list orders by the other sorts (the page's order)
        customers = customers.order_by("-id")
    if cursor:
        value, pk = _decode_cursor(sort, cursor)
        if key is not None:
            customers = customers.filter(key.after(value, pk))
        elif pk <= MAX_ID:  # any larger id lies beyond every row
            customers = customers.filter(id__lt=pk)
    # Owner and team go out as ids: the page's prefetch of them is not needed here.
    items = selectors.with_tag_names(list(customers.prefetch_related(None)[: limit + 1]))
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": _encode_cursor(sort, items[-1]) if more else None}


_LIST_PARAMS = frozenset(inspect.signature(list_customers).parameters) - {"request"}


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
    return selectors.with_tag_names(list(selectors.pool_list(actor=request.user, q=q)[:limit]))


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

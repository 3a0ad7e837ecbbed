"""API endpoints of the catalogue, orders (of customers and of anonymous consumers),
their payments and refunds, and a customer's sales."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.permissions import Perm
from kehu.sales import selectors, services
from kehu.sales.api_common import (
    MAX_ID,
    TIME_CURSOR,
    api_field_names,
    keyset_page,
    not_found,
    visible_customer,
)
from kehu.sales.models import Order, Product
from kehu.sales.schemas import (
    CancelIn,
    CustomerSalesOut,
    LinkIn,
    OrderDetailOut,
    OrderFilterQuery,
    OrderIn,
    OrderPage,
    OrderPatch,
    PaymentIn,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    RefundIn,
)
from kehu.sales.selectors import OrderFilters

router = Router(tags=["sales"])

# --- catalogue --------------------------------------------------------------------------


def _product(request: HttpRequest, product_id: int) -> Product:
    found = selectors.product_list(actor=request.user).filter(pk=product_id).first()
    if found is None:
        raise not_found()
    return found


@router.get("/products", response={200: ProductPage, **ERRORS}, summary="The product catalogue")
@require(Perm.VIEW_SALES)
def list_products(
    request: HttpRequest,
    q: str = Query("", max_length=100, description="Code, name (any language) or category."),
    active: bool | None = Query(None, description="true: only active; false: only retired."),
    cursor: str = Query("", max_length=120, description="`next_cursor` of the previous page."),
    limit: int = Query(100, ge=1, le=500),
) -> Any:
    """By code; keyset pages."""
    products = selectors.product_list(actor=request.user, q=q, active_only=active is True)
    if active is False:
        products = products.filter(is_active=False)
    return keyset_page(
        products.order_by("code", "id"), cursor=cursor, limit=limit, field="code", kind="text"
    )


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, summary="Add a product")
@require(Perm.MANAGE_CATALOGUE)
def create_product(request: HttpRequest, payload: ProductIn) -> Any:
    return Status(201, services.product_create(actor=request.user, **payload.dict()))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="A product")
@require(Perm.VIEW_SALES)
def get_product(request: HttpRequest, product_id: int) -> Any:
    return _product(request, product_id)


@router.patch(
    "/products/{product_id}",
    response={200: ProductOut, **WRITE_ERRORS},
    summary="Change a product (retire it with is_active=false)",
)
@require(Perm.MANAGE_CATALOGUE)
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> Any:
    product = _product(request, product_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return services.product_update(
        actor=request.user, product=product, expected_version=version, **data
    )


# --- orders -----------------------------------------------------------------------------


def _order(request: HttpRequest, order_id: int, perm: str = Perm.VIEW_SALES) -> Order:
    try:
        return selectors.order_get(actor=request.user, pk=order_id, perm=perm)
    except (Order.DoesNotExist, OverflowError):
        raise not_found() from None


def _detail(order: Order) -> Order:
    """The order fresh from the database with what its detail shows."""
    return (
        Order.all_objects.select_related("customer")
        .prefetch_related("lines", "payments", "refunds")
        .get(pk=order.pk)
    )


def _lines(lines: list[dict] | None) -> list[dict] | None:
    if lines is None:
        return None
    return [{k: v for k, v in line.items() if v is not None} for line in lines]


@router.get("/orders", response={200: OrderPage, **ERRORS}, summary="Orders")
@require(Perm.VIEW_SALES)
def list_orders(
    request: HttpRequest,
    filters: Query[OrderFilterQuery],
    cursor: str = Query(
        "", max_length=41, pattern=TIME_CURSOR, description="`next_cursor` of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Orders credited to people in your scope, newest first; keyset pages."""
    orders = selectors.order_list(actor=request.user, filters=OrderFilters(**filters.dict()))
    return keyset_page(
        orders.select_related("customer"),
        cursor=cursor,
        limit=limit,
        field="ordered_at",
        kind="time",
        descending=True,
    )


@router.post(
    "/orders",
    response={201: OrderDetailOut, **WRITE_ERRORS},
    summary="Record an order (of a customer, or of an anonymous consumer)",
)
@require(Perm.CHANGE_SALES)
def create_order(request: HttpRequest, payload: OrderIn) -> Any:
    """`customer_id: null` records the sale to an anonymous consumer (a walk-in, 顾客) —
    describe them in `consumer_label`; link the order to a customer later. Errors of a
    line are named `lines.<n>.<field>`; nothing is stored unless everything is valid."""
    data = payload.dict()
    customer_id = data.pop("customer_id")
    customer = visible_customer(request, customer_id) if customer_id is not None else None
    with api_field_names(owner="owner_id"):
        order = services.order_create(
            actor=request.user,
            customer=customer,
            owner=data.pop("owner_id"),
            lines=_lines(data.pop("lines")),
            payments=[{k: v for k, v in p.items() if v is not None} for p in data.pop("payments")],
            **data,
        )
    return Status(201, _detail(order))


@router.get(
    "/orders/{order_id}",
    response={200: OrderDetailOut, **ERRORS},
    summary="An order with its lines, payments and refunds",
)
@require(Perm.VIEW_SALES)
def get_order(request: HttpRequest, order_id: int) -> Any:
    return _detail(_order(request, order_id))


@router.patch(
    "/orders/{order_id}",
    response={200: OrderDetailOut, **WRITE_ERRORS},
    summary="Change an order (its lines too)",
)
@require(Perm.CHANGE_SALES)
def update_order(request: HttpRequest, order_id: int, payload: OrderPatch) -> Any:
    """`lines`, when given, replace all lines; the total may not fall below what has
    been paid (409 `below_paid`). A cancelled order cannot be changed (409)."""
    order = _order(request, order_id, Perm.CHANGE_SALES)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    with api_field_names(owner="owner_id"):
        order = services.order_update(
            actor=request.user,
            order=order,
            expected_version=version,
            owner=data.pop("owner_id", None),
            lines=_lines(data.pop("lines", None)),
            **data,
        )
    return _detail(order)


@router.delete(
    "/orders/{order_id}", response={204: None, **WRITE_ERRORS}, summary="Delete an order"
)
@require(Perm.DELETE_SALES)
def delete_order(
    request: HttpRequest, order_id: int, version: int = Query(..., ge=1, le=MAX_ID)
) -> Any:
    """Soft delete: restorable."""
    order = _order(request, order_id, Perm.DELETE_SALES)
    services.order_delete(actor=request.user, order=order, expected_version=version)
    return Status(204, None)


@router.post(
    "/orders/{order_id}/restore",
    response={200: OrderDetailOut, **WRITE_ERRORS},
    summary="Bring back a deleted order",
)
@require(Perm.DELETE_SALES)
def restore_order(request: HttpRequest, order_id: int) -> Any:
    """Within KEHU_PURGE_AFTER_DAYS of its deletion; 404 for an order that is not deleted
    or not in the caller's scope."""
    try:
        order = services.order_restore(actor=request.user, pk=order_id)
    except OverflowError:
        raise not_found() from None
    return _detail(order)


@router.post(
    "/orders/{order_id}/payments",
    response={201: OrderDetailOut, **WRITE_ERRORS},
    summary="Record money received for an order",
)
@require(Perm.CHANGE_SALES)
def add_payment(request: HttpRequest, order_id: int, payload: PaymentIn) -> Any:
    """Answers with the order (new totals, payment status and version). More than is
    still owed is refused (409 `overpaid`)."""
    order = _order(request, order_id, Perm.CHANGE_SALES)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    services.order_add_payment(actor=request.user, order=order, **data)
    return Status(201, _detail(order))


@router.post(
    "/orders/{order_id}/refunds",
    response={201: OrderDetailOut, **WRITE_ERRORS},
    summary="Record a refund (a return or a goodwill refund)",
)
@require(Perm.CHANGE_SALES)
def add_refund(request: HttpRequest, order_id: int, payload: RefundIn) -> Any:
    """Never more than has been paid and not yet refunded (409 `over_refund`)."""
    order = _order(request, order_id, Perm.CHANGE_SALES)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    services.order_add_refund(actor=request.user, order=order, **data)
    return Status(201, _detail(order))


@router.post(
    "/orders/{order_id}/link",
    response={200: OrderDetailOut, **WRITE_ERRORS},
    summary="Link an anonymous consumer's order to a customer",
)
@require(Perm.CHANGE_SALES)
def link_order(request: HttpRequest, order_id: int, payload: LinkIn) -> Any:
    """The order moves into the customer's history (409 `linked` if it already has one)."""
    order = _order(request, order_id, Perm.CHANGE_SALES)
    customer = visible_customer(request, payload.customer_id)
    order = services.order_link_customer(
        actor=request.user, order=order, customer=customer, expected_version=payload.version
    )
    return _detail(order)


@router.post(
    "/orders/{order_id}/cancel",
    response={200: OrderDetailOut, **WRITE_ERRORS},
    summary="Cancel an order",
)
@require(Perm.CHANGE_SALES)
def cancel_order(request: HttpRequest, order_id: int, payload: CancelIn) -> Any:
    """Money still held must be refunded first (409 `paid`)."""
    order = _order(request, order_id, Perm.CHANGE_SALES)
    order = services.order_cancel(
        actor=request.user, order=order, expected_version=payload.version, reason=payload.reason
    )
    return _detail(order)


@router.get(
    "/customers/{customer_id}/sales",
    response={200: CustomerSalesOut, **ERRORS},
    summary="A customer's lifetime sales and latest orders",
)
@require(Perm.VIEW_SALES)
def customer_sales(
    request: HttpRequest, customer_id: int, limit: int = Query(20, ge=0, le=100)
) -> Any:
    """Everything sold to the customer (orders linked later included), for anyone who may
    see the customer."""
    customer = visible_customer(request, customer_id, field="not found")
    summary = selectors.customer_sales(customer=customer)
    latest = selectors.orders_of_customer(customer=customer).select_related("customer")[:limit]
    return {"customer_id": customer.pk, **summary.__dict__, "latest_orders": list(latest)}

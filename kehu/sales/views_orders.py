"""Pages of orders: the list with filters, recording an order (of a customer or of a walk-in
consumer), its detail with payments, refunds, delivery, cancelling and linking to a customer,
and editing it. Thin: reads through selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.core.views import CappedPaginator, is_htmx
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_get, customer_list
from kehu.sales import selectors, services
from kehu.sales.choices import OrderStatus
from kehu.sales.forms_orders import (
    CancelForm,
    DeliveryForm,
    LineRow,
    LineRows,
    LinkForm,
    OrderFilterForm,
    OrderForm,
    PaymentForm,
    RefundForm,
    order_initial,
    percent_text,
    plain,
    product_options,
)
from kehu.sales.models import Order

PAGE_SIZE = 50
SEARCH_RESULTS = 10


def conflict_message() -> str:
    return _("Someone else changed this record — reload it and apply your change again.")


def _order(request: HttpRequest, pk: int, perm: str = Perm.VIEW_SALES) -> Order:
    """The order if the user may see it (or, for ``perm``, change or delete it); else 404."""
    try:
        return selectors.order_get(actor=request.user, pk=pk, perm=perm)
    except Order.DoesNotExist:
        raise Http404 from None


def _may(request: HttpRequest, order: Order, perm: str) -> bool:
    if not has_perm(request.user, perm):
        return False
    try:
        selectors.order_get(actor=request.user, pk=order.pk, perm=perm)
    except Order.DoesNotExist:
        return False
    return True


def _visible_customer(request: HttpRequest, pk: Any) -> Customer | None:
    if not pk:
        return None
    try:
        return customer_get(actor=request.user, pk=int(pk))
    except (Customer.DoesNotExist, ValueError, TypeError):
        return None


def _find_customers(request: HttpRequest, q: str) -> list[Customer]:
    q = (q or "").strip()[:100]
    if not q:
        return []
    return list(customer_list(actor=request.user, filters=CustomerFilters(q=q))[:SEARCH_RESULTS])


# --- The list --------------------------------------------------------------------------------


@require(Perm.VIEW_SALES)
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, actor=request.user)
    form.is_valid()  # a field with an error is left out of the filter and shows its error
    filters = form.filters()
    orders = selectors.order_list(actor=request.user, filters=filters).select_related(
        "customer", "owner"
    )
    page = CappedPaginator(orders, PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    partial = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    template = "sales/orders/order_list.html"
    response = render(
        request,
        f"{template}#results" if partial else template,
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "customer": _visible_customer(request, filters.customer_id),
            "can_change": has_perm(request.user, Perm.CHANGE_SALES),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


@require(Perm.CHANGE_SALES)
def customer_search(request: HttpRequest) -> HttpResponse:
    """The customers matching a search, as choices for a form (an htmx fragment)."""
    q = next((request.GET.get(k) for k in ("customer_q", "link_q", "q") if request.GET.get(k)), "")
    return render(
        request,
        "sales/orders/partials/customer_options.html",
        {"customers": _find_customers(request, q), "searched": bool(q.strip())},
    )


# --- Record and edit --------------------------------------------------------------------------


def _editor_page(
    request: HttpRequest,
    form: OrderForm,
    rows: LineRows,
    *,
    order: Order | None = None,
    customer: Customer | None = None,
    found: list[Customer] | None = None,
    conflict: str = "",
    status: int | None = None,
) -> HttpResponse:
    if status is None:
        status = 409 if conflict else 400 if (form.errors or rows.has_errors) else 200
    return render(
        request,
        "sales/orders/order_form.html",
        {
            "form": form,
            "rows": rows.padded(),
            "line_errors": rows.errors,
            "next_index": rows.next_index(),
            "template_row": LineRow("__n__", {"quantity": "1"}),  # type: ignore[arg-type]
            "products": product_options(request.user, rows),
            "order": order,
            "customer": customer,
            "found": found,
            "conflict": conflict,
        },
        status=status,
    )


def _editor_button(request: HttpRequest, rows: LineRows) -> bool:
    """Add or remove a line without JavaScript: the page comes back with all input kept."""
    if "add_line" in request.POST:
        rows.add_blank()
        return True
    if "remove_line" in request.POST:
        rows.remove(request.POST["remove_line"])
        return True
    return False


@require(Perm.CHANGE_SALES)
def order_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        customer = _visible_customer(request, request.GET.get("customer"))
        initial = {"ordered_at": timezone.localtime().replace(second=0, microsecond=0)}
        form = OrderForm(initial=initial, actor=request.user)
        return _editor_page(request, form, LineRows(), customer=customer)

    form = OrderForm(request.POST, actor=request.user)
    rows = LineRows.from_post(request.POST)
    chosen = request.POST.get("customer", "").strip()
    customer = _visible_customer(request, chosen)
    search = request.POST.get("customer_q", "").strip()
    if _editor_button(request, rows):
        return _editor_page(request, form, rows, customer=customer, status=200)
    if "find_customer" in request.POST or (search and customer is None):
        found = _find_customers(request, search)
        if "find_customer" not in request.POST:
            messages.info(
                request,
                _("Choose one of the customers found, or clear the search for a walk-in sale."),
            )
        return _editor_page(request, form, rows, customer=customer, found=found, status=200)
    if form.is_valid():
        if chosen and customer is None:
            form.add_error(None, _("Choose a customer you can see, or none for a walk-in sale."))
        else:
            payments = []
            amount = form.cleaned_data.get("payment_amount", "").strip()
            if amount:
                payments.append({"amount": amount, "method": form.cleaned_data["payment_method"]})
            try:
                order = services.order_create(
                    actor=request.user,
                    customer=customer,
                    lines=rows.for_service(),
                    prices_include_tax=form.cleaned_data["prices_include_tax"],
                    owner=form.chosen_owner(),
                    payments=payments,
                    **form.header_fields(),
                )
            except ValidationError as exc:
                rest = rows.take_errors(exc)
                if rest is not None:
                    apply_errors(form, rest)
            else:
                messages.success(
                    request, _("Order %(number)s recorded.") % {"number": order.number}
                )
                return redirect("sales:order", pk=order.pk)
    return _editor_page(request, form, rows, customer=customer)


@require(Perm.CHANGE_SALES)
def order_edit(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.CHANGE_SALES)
    if request.method != "POST":
        form = OrderForm(initial=order_initial(order), actor=request.user, order=order)
        return _editor_page(request, form, LineRows.from_order(order), order=order)
    form = OrderForm(request.POST, actor=request.user, order=order)
    rows = LineRows.from_post(request.POST)
    if _editor_button(request, rows):
        return _editor_page(request, form, rows, order=order, status=200)
    conflict = ""
    if form.is_valid():
        try:
            services.order_update(
                actor=request.user,
                order=order,
                expected_version=form.cleaned_data["version"],
                lines=rows.for_service(),
                owner=form.chosen_owner(),
                **form.header_fields(),
            )
        except ConflictError:
            conflict = conflict_message()
        except ValidationError as exc:
            rest = rows.take_errors(exc)
            if rest is not None:
                apply_errors(form, rest)
        else:
            messages.success(request, _("Order %(number)s saved.") % {"number": order.number})
            return redirect("sales:order", pk=order.pk)
    return _editor_page(request, form, rows, order=order, conflict=conflict)


# --- Detail and the actions on it -----------------------------------------------------------


def _detail_page(
    request: HttpRequest, order: Order, *, status: int = 200, **forms: Any
) -> HttpResponse:
    order = (
        Order.objects.select_related("customer", "owner", "contract")
        .prefetch_related("lines__product", "payments__recorded_by", "refunds__recorded_by")
        .get(pk=order.pk)
    )
    can_change = _may(request, order, Perm.CHANGE_SALES)
    open_order = order.status != OrderStatus.CANCELLED
    link_q = request.GET.get("link_q", "").strip()[:100]
    context: dict[str, Any] = {
        "order": order,
        "lines": [
            {"line": line, "quantity": plain(line.quantity), "tax": percent_text(line.tax_rate)}
            for line in order.lines.all()
        ],
        "refundable": order.paid_total - order.refunded_total,
        "can_change": can_change,
        "can_pay": can_change and open_order and order.paid_total < order.total,
        "can_refund": can_change and order.paid_total > order.refunded_total,
        "can_edit": can_change and open_order,
        "can_link": can_change and order.is_anonymous,
        "can_delete": _may(request, order, Perm.DELETE_SALES),
        "payment_form": forms.get("payment_form") or PaymentForm(),
        "refund_form": forms.get("refund_form") or RefundForm(),
        "delivery_form": forms.get("delivery_form")
        or DeliveryForm(initial={"delivery_status": order.delivery_status}),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "link_form": forms.get("link_form"),
        "link_q": link_q,
        "found": _find_customers(request, link_q) if link_q else None,
    }
    return render(request, "sales/orders/order_detail.html", context, status=status)


@require(Perm.VIEW_SALES)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _order(request, pk))


@require(Perm.CHANGE_SALES)
@require_POST
def order_payment(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.CHANGE_SALES)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.order_add_payment(actor=request.user, order=order, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("sales:order", pk=order.pk)
    return _detail_page(request, order, status=400, payment_form=form)


@require(Perm.CHANGE_SALES)
@require_POST
def order_refund(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.CHANGE_SALES)
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            services.order_add_refund(actor=request.user, order=order, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Refund recorded."))
            return redirect("sales:order", pk=order.pk)
    return _detail_page(request, order, status=400, refund_form=form)


@require(Perm.CHANGE_SALES)
@require_POST
def order_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.CHANGE_SALES)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            services.order_update(
                actor=request.user,
                order=order,
                expected_version=form.cleaned_data["version"],
                delivery_status=form.cleaned_data["delivery_status"],
            )
        except ConflictError:
            messages.error(request, conflict_message())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Delivery status saved."))
        return redirect("sales:order", pk=order.pk)
    return _detail_page(request, order, status=400, delivery_form=form)


@require(Perm.CHANGE_SALES)
@require_POST
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.CHANGE_SALES)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.order_cancel(
                actor=request.user,
                order=order,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data.get("reason") or "",
            )
        except ConflictError:
            messages.error(request, conflict_message())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Order %(number)s cancelled.") % {"number": order.number})
        return redirect("sales:order", pk=order.pk)
    return _detail_page(request, order, status=400, cancel_form=form)


@require(Perm.CHANGE_SALES)
@require_POST
def order_link(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.CHANGE_SALES)
    form = LinkForm(request.POST)
    customer = _visible_customer(request, request.POST.get("customer")) if form.is_valid() else None
    if form.is_valid() and customer is None:
        form.add_error("customer", _("Choose a customer you can see."))
    if not form.is_valid():
        return _detail_page(request, order, status=400, link_form=form)
    try:
        services.order_link_customer(
            actor=request.user,
            order=order,
            customer=customer,
            expected_version=form.cleaned_data["version"],
        )
    except ConflictError:
        messages.error(request, conflict_message())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Order %(number)s now belongs to %(name)s and is in their history.")
            % {"number": order.number, "name": customer.name},
        )
    return redirect("sales:order", pk=order.pk)


@require(Perm.DELETE_SALES)
@require_POST
def order_delete(request: HttpRequest, pk: int) -> HttpResponse:
    order = _order(request, pk, Perm.DELETE_SALES)
    version = request.POST.get("version", "")
    try:
        if not version.isdigit():
            raise ConflictError(order)
        services.order_delete(actor=request.user, order=order, expected_version=int(version))
    except ConflictError:
        messages.error(request, conflict_message())
        return redirect("sales:order", pk=order.pk)
    messages.success(
        request,
        _(
            "Order %(number)s was deleted. For 30 days, a manager or an administrator "
            "can restore it through the API."
        )
        % {"number": order.number},
    )
    return redirect("sales:orders")

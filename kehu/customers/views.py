"""Pages of the customer file: list and search, create, detail with history, edit, the
public pool. Thin: every read goes through selectors, every write through services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.core.services import record_soft_delete
from kehu.core.views import CappedPaginator, is_htmx
from kehu.customers import selectors, services, views_custody, views_merge
from kehu.customers.forms import (
    CustomerFilterForm,
    CustomerForm,
    InteractionForm,
    PoolSearchForm,
    ReleaseForm,
    initial_for,
)
from kehu.customers.models import Customer, CustomerChange
from kehu.customers.views_filters import list_extras

PAGE_SIZE = 50


def _conflict_message() -> str:
    return _("Someone else changed this record — reload it and apply your change again.")


def _visible(request: HttpRequest, pk: int) -> Customer:
    """The customer if the user may see it; otherwise 404, as for one that does not exist."""
    try:
        return selectors.customer_get(actor=request.user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _wants_partial(request: HttpRequest) -> bool:
    # htmx restoring its history asks for the whole page.
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def _page(request: HttpRequest, rows: Any) -> Any:
    paginator = CappedPaginator(rows, PAGE_SIZE, allow_empty_first_page=True)
    return paginator.get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render_list(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The whole page, or only its ``results`` partial for an htmx request."""
    name = f"{template}#results" if _wants_partial(request) else template
    response = render(request, name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- List and search ----------------------------------------------------------------------


@require(Perm.VIEW_CUSTOMERS)
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET or None, actor=request.user)
    form.is_valid()  # a field with an error is left out of the filter and shows its error
    filters = form.filters()
    page = _page(request, selectors.customer_list(actor=request.user, filters=filters))
    rows = [{"customer": c, "stale": selectors.is_stale(c)} for c in page]
    return _render_list(
        request,
        "customers/customer_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": _query_without_page(request),
            "can_change": has_perm(request.user, Perm.CHANGE_CUSTOMERS),
            "can_merge": has_perm(request.user, Perm.MERGE_CUSTOMERS),
            **list_extras(request),
        },
    )


# --- Create, detail, edit -----------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    form: CustomerForm,
    *,
    title: str,
    cancel_url: str,
    conflict: str = "",
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "title": title,
            "cancel_url": cancel_url,
            "conflict": conflict,
            "form_id": "customer-form",
            **(extra or {}),
        },
        status=status,
    )


@require(Perm.CHANGE_CUSTOMERS)
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    duplicates: list[Any] = []
    if request.method == "POST" and form.is_valid():
        # Likely duplicates need an explicit "create anyway" (kehu.customers.views_merge).
        duplicates = views_merge.duplicates_for_form(request, form)
        if not views_merge.create_blocked_by_duplicates(request, duplicates):
            try:
                customer = services.customer_create(
                    actor=request.user,
                    tags=form.tag_names(),
                    custom=form.custom_values(),
                    **form.customer_fields(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Customer %(name)s created.") % {"name": customer.name})
                return redirect("customers:detail", pk=customer.pk)
    return _form_page(
        request,
        form,
        title=_("New customer"),
        cancel_url=reverse("customers:list"),
        status=400 if form.errors else 200,
        extra=views_merge.duplicate_context(request, duplicates),
    )


@require(Perm.VIEW_CUSTOMERS)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = _visible(request, pk)
    except Http404:
        return views_merge.follow_merge(request, pk)  # a merged id leads to the survivor
    changes = list(selectors.customer_changes(actor=request.user, customer=customer))
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "tags": list(customer.tags.all()),
            "stale": selectors.is_stale(customer),
            "history": _history_rows(changes),
            "can_change": has_perm(request.user, Perm.CHANGE_CUSTOMERS),
            "can_claim": has_perm(request.user, Perm.CLAIM_CUSTOMERS),
            "can_delete": has_perm(request.user, Perm.DELETE_CUSTOMERS),
            "purge_days": settings.KEHU_PURGE_AFTER_DAYS,
            "can_release": customer.owner_id == request.user.pk,
            "release_form": ReleaseForm(),
            "interactions": list(
                selectors.interaction_list(actor=request.user, customer=customer)[:50]
            ),
            "interaction_form": InteractionForm(),
            # Masked fields, custom fields, reveal; records the opening (lending book).
            **views_custody.file_extras(request, customer),
        },
    )


@require(Perm.CHANGE_CUSTOMERS)
@require_POST
def interaction_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible(request, pk)
    form = InteractionForm(request.POST)
    if form.is_valid():
        try:
            services.interaction_record(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Added to the timeline."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("customers:detail", pk=customer.pk)


@require(Perm.CHANGE_CUSTOMERS)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible(request, pk)
    # Custody: who may reveal sees and edits the real values (the opening is audited as
    # a reveal); others see them masked and read-only, and saving leaves them unchanged.
    may_reveal = views_custody.edit_reveal(request, customer)
    form = CustomerForm(
        request.POST or None,
        initial=initial_for(customer, may_reveal=may_reveal),
        editing=True,
        may_reveal=may_reveal,
    )
    conflict, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                actor=request.user,
                customer=customer,
                expected_version=form.cleaned_data["version"],
                tags=form.tag_names(),
                custom=form.custom_values(),
                **form.customer_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict, status = _conflict_message(), 409
        else:
            messages.success(request, _("Customer %(name)s saved.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    if form.errors and status == 200:
        status = 400
    return _form_page(
        request,
        form,
        title=_("Edit customer %(name)s") % {"name": customer.name},
        cancel_url=reverse("customers:detail", args=[customer.pk]),
        conflict=conflict,
        status=status,
    )


@require(Perm.CHANGE_CUSTOMERS)
@require_POST
def customer_verify(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible(request, pk)
    services.customer_mark_verified(actor=request.user, customer=customer)
    messages.success(request, _("Marked as verified."))
    return redirect("customers:detail", pk=customer.pk)


@require(Perm.DELETE_CUSTOMERS)
@require_POST
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Soft delete from the file; an administrator can restore it until the purge."""
    customer = _visible(request, pk)
    version = request.POST.get("version", "")
    if not version.isdigit():
        messages.error(request, _conflict_message())
        return redirect("customers:detail", pk=customer.pk)
    try:
        record_soft_delete(actor=request.user, obj=customer, expected_version=int(version))
    except ConflictError:
        messages.error(request, _conflict_message())
        return redirect("customers:detail", pk=customer.pk)
    messages.success(
        request,
        _("%(name)s was deleted. An administrator can restore it within %(days)s days.")
        % {"name": customer.name, "days": settings.KEHU_PURGE_AFTER_DAYS},
    )
    return redirect("customers:list")


@require(Perm.CHANGE_CUSTOMERS)
@require_POST
def customer_release(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _visible(request, pk)
    form = ReleaseForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.customer_release(actor=request.user, customer=customer, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:detail", pk=customer.pk)
    messages.success(request, _("%(name)s is back in the public pool.") % {"name": customer.name})
    return redirect("customers:list")


# --- The public pool ------------------------------------------------------------------------


@require(Perm.CLAIM_CUSTOMERS)
def pool_list(request: HttpRequest) -> HttpResponse:
    form = PoolSearchForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    page = _page(request, selectors.pool_list(actor=request.user, q=q))
    return _render_list(
        request,
        "customers/pool_list.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
    )


@require(Perm.CLAIM_CUSTOMERS)
@require_POST
def pool_claim(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = services.customer_claim(actor=request.user, customer_id=pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    except RuleViolation as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:pool")
    messages.success(request, _("%(name)s is now your customer.") % {"name": customer.name})
    return redirect("customers:detail", pk=customer.pk)


# --- Presentation of the history ------------------------------------------------------------


def _history_rows(changes: list[CustomerChange]) -> list[dict[str, Any]]:
    """Each change with the field's label and values as people read them: choices by
    their label, the owner by name."""
    owner_ids = {
        int(value)
        for change in changes
        if change.field == "owner"
        for value in (change.old_value, change.new_value)
        if value.isdigit()
    }
    names = _user_names(owner_ids)
    custom_labels = (
        views_custody.custom_fields.field_labels()
        if any(c.field.startswith("custom.") for c in changes)
        else {}
    )
    rows = []
    for change in changes:
        field: Any
        try:
            field = Customer._meta.get_field(change.field)
        except FieldDoesNotExist:
            field = None
        if field is not None and not hasattr(field, "verbose_name"):
            field = None  # a reverse relation, e.g. "merged_from" (views_merge.HISTORY_LABELS)
        choices = dict(field.flatchoices) if field is not None and field.choices else {}

        def shown(value: str, choices: dict = choices, field_name: str = change.field) -> Any:
            if field_name == "owner":
                return names.get(int(value), value) if value.isdigit() else ""
            return choices.get(value, value)

        label = (
            field.verbose_name
            if field is not None
            else views_merge.HISTORY_LABELS.get(change.field, change.field)
        )
        if field is None and change.field.startswith("custom."):
            label = custom_labels.get(change.field[7:], change.field)
        rows.append(
            {
                "change": change,
                "label": label,
                # Custody: the history of a masked field stays masked.
                "old": views_custody.masked_history_value(change.field, shown(change.old_value)),
                "new": views_custody.masked_history_value(change.field, shown(change.new_value)),
            }
        )
    return rows


def _user_names(ids: set[int]) -> dict[int, str]:
    # History keeps the owner as a user id; colleagues' names are shown on every list.
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: user.get_full_name() for user in users}

"""Pages of customer needs: record and change a need from the customer's file, and the
needs page across customers with filters and summary counts. Thin: reads through selectors,
writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.access import require
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.core.views import is_htmx
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get
from kehu.needs import selectors, services
from kehu.needs.forms import NeedFilterForm, NeedForm, NeedStatusForm, initial_for
from kehu.needs.models import Need
from kehu.needs.selectors import NeedFilters

PAGE_SIZE = 50


def _conflict_message() -> str:
    return _("Someone else changed this record — reload it and apply your change again.")


def _customer(request: HttpRequest, pk: int) -> Customer:
    try:
        return customer_get(actor=request.user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _need(request: HttpRequest, pk: int) -> Need:
    try:
        return selectors.need_get(actor=request.user, pk=pk, perm=Perm.CHANGE_CUSTOMERS)
    except Need.DoesNotExist:
        raise Http404 from None


def _file_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id]) + "#needs"


# --- The needs page ----------------------------------------------------------------------


@require(Perm.VIEW_CUSTOMERS)
def need_list(request: HttpRequest) -> HttpResponse:
    form = NeedFilterForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filters = NeedFilters(
        q=data.get("q", ""),
        domain=data.get("domain", ""),
        nature=data.get("nature", ""),
        factor=data.get("factor", ""),
        source=data.get("source", ""),
        priority=data.get("priority", ""),
        status=data.get("status", ""),
    )
    needs = selectors.need_list(actor=request.user, filters=filters).select_related(
        "customer", "author"
    )
    page = Paginator(needs, PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    summary = selectors.need_summary(actor=request.user, filters=filters)
    partial = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    template = "needs/need_list.html#results" if partial else "needs/need_list.html"
    response = render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "summary": summary,
            "matrix": _matrix(summary),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


def _matrix(summary: dict[str, Any]) -> dict[str, Any]:
    """The production/living × material/spiritual counts as a small cross table."""
    cells = summary["by_domain_nature"]
    natures = [
        (row["nature"], row["nature_label"]) for row in cells if row["domain"] == cells[0]["domain"]
    ]
    rows = []
    for domain in dict.fromkeys(row["domain"] for row in cells):
        mine = [row for row in cells if row["domain"] == domain]
        rows.append(
            {
                "domain": domain,
                "label": mine[0]["domain_label"],
                "cells": mine,
                "total": sum(row["count"] for row in mine),
            }
        )
    totals = [sum(row["count"] for row in cells if row["nature"] == value) for value, _l in natures]
    return {"natures": natures, "rows": rows, "totals": totals}


# --- Record, change, delete ------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    form: NeedForm,
    *,
    customer: Customer,
    title: str,
    conflict: str = "",
) -> HttpResponse:
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "needs/need_form.html",
        {
            "form": form,
            "customer": customer,
            "title": title,
            "cancel_url": _file_url(customer.pk),
            "conflict": conflict,
        },
        status=status,
    )


@require(Perm.CHANGE_CUSTOMERS)
def need_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = _customer(request, customer_pk)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_create(actor=request.user, customer=customer, **form.need_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Need recorded: %(title)s") % {"title": need.title})
            return redirect(_file_url(customer.pk))
    return _form_page(
        request,
        form,
        customer=customer,
        title=_("Record a need"),
    )


@require(Perm.CHANGE_CUSTOMERS)
def need_edit(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    form = NeedForm(request.POST or None, initial=initial_for(need), editing=True)
    conflict = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.need_update(
                actor=request.user,
                need=need,
                expected_version=form.cleaned_data["version"],
                **form.need_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict = _conflict_message()
        else:
            messages.success(request, _("Need saved: %(title)s") % {"title": need.title})
            return redirect(_file_url(need.customer_id))
    return _form_page(
        request,
        form,
        customer=need.customer,
        title=_("Edit a need"),
        conflict=conflict,
    )


@require(Perm.CHANGE_CUSTOMERS)
@require_POST
def need_status(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    form = NeedStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the statuses."))
        return redirect(_file_url(need.customer_id))
    try:
        services.need_set_status(
            actor=request.user,
            need=need,
            status=form.cleaned_data["status"],
            expected_version=form.cleaned_data["version"],
        )
    except ConflictError:
        messages.error(request, _conflict_message())
    else:
        messages.success(
            request,
            _("%(title)s: %(status)s") % {"title": need.title, "status": need.get_status_display()},
        )
    return redirect(_file_url(need.customer_id))


@require(Perm.CHANGE_CUSTOMERS)
@require_POST
def need_delete(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        services.need_delete(actor=request.user, need=need, expected_version=version)
    except ConflictError:
        messages.error(request, _conflict_message())
    else:
        messages.success(request, _("Need deleted: %(title)s") % {"title": need.title})
    return redirect(_file_url(need.customer_id))

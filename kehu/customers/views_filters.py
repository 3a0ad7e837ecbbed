"""Saved filters on the customer list page: save the current filter under a name, apply
one from the dropdown (a link to the list with its query), delete one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require
from kehu.core.forms import StyledForm
from kehu.core.permissions import Perm
from kehu.customers import saved_filters
from kehu.customers.filtering import FILTER_PARAMS
from kehu.customers.models import SavedFilter


class SaveFilterForm(StyledForm):
    name = forms.CharField(
        label=gettext_lazy("Name of the filter"),
        max_length=saved_filters.NAME_MAX,
        widget=forms.TextInput(attrs={"maxlength": str(saved_filters.NAME_MAX)}),
    )
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)


def current_query(request: HttpRequest) -> str:
    """The list's filter parameters of this request (no page number, nothing unknown)."""
    return urlencode(
        [
            (name, value)
            for name in FILTER_PARAMS
            for value in request.GET.getlist(name)[:1]
            if value.strip()
        ]
    )


def list_extras(request: HttpRequest) -> dict[str, Any]:
    """What the list page shows around the table: saved filters, save and export."""
    query = current_query(request)
    return {
        "saved_filters": list(saved_filters.saved_filter_list(actor=request.user)),
        "save_filter_form": SaveFilterForm(initial={"query": query}),
        "filter_query": query,
        "can_export": has_perm(request.user, Perm.EXPORT_CUSTOMERS),
    }


def _list_url(query: str) -> str:
    url = reverse("customers:list")
    return f"{url}?{query}" if query else url


@require(Perm.VIEW_CUSTOMERS)
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    form = SaveFilterForm(request.POST)
    query = request.POST.get("query", "")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(_list_url(query))
    try:
        saved, created = saved_filters.saved_filter_save(
            actor=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_list_url(query))
    if created:
        messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
    else:
        messages.success(request, _("Filter “%(name)s” updated.") % {"name": saved.name})
    return redirect(_list_url(saved.query))


@require(Perm.VIEW_CUSTOMERS)
@require_POST
def saved_filter_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        saved = saved_filters.saved_filter_get(actor=request.user, pk=pk)
    except SavedFilter.DoesNotExist:
        raise Http404 from None
    saved_filters.saved_filter_delete(actor=request.user, saved_filter=saved)
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("customers:list")

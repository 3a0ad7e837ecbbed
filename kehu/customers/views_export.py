"""The export page: the list's current filters carried over, the user picks the format and
the columns (and, if allowed, unmasked values), and gets the file."""

from __future__ import annotations

import os
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from kehu.core.access import AccessDenied, require
from kehu.core.forms import StyledForm, apply_errors
from kehu.core.permissions import Perm
from kehu.customers import exports, masking, selectors
from kehu.customers.forms import CustomerFilterForm
from kehu.customers.views_filters import current_query


class ExportForm(StyledForm):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", _("Excel (XLSX)")), ("csv", _("CSV (UTF-8, opens in Excel)"))],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
    columns = forms.MultipleChoiceField(
        label=_("Columns"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    reveal = forms.BooleanField(
        label=_(
            "Include unmasked mobile numbers, ID numbers and addresses (recorded in the audit log)"
        ),
        required=False,
    )
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = exports.column_choices()
        self.fields["columns"].initial = list(exports.DEFAULT_COLUMNS)
        if not masking.can_reveal(actor):
            del self.fields["reveal"]


def _filter_form(request: HttpRequest, query: str) -> CustomerFilterForm:
    form = CustomerFilterForm(QueryDict(query) if query else None, actor=request.user)
    form.is_valid()
    return form


@require(Perm.EXPORT_CUSTOMERS)
def customer_export(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ExportForm(request.POST, actor=request.user)
        query = request.POST.get("query", "")
    else:
        query = current_query(request)
        form = ExportForm(initial={"query": query}, actor=request.user)
    filter_form = _filter_form(request, query)
    if request.method == "POST" and form.is_valid() and not filter_form.errors:
        try:
            result = exports.customer_export(
                actor=request.user,
                filters=filter_form.filters(),
                columns=form.cleaned_data["columns"],
                fmt=form.cleaned_data["format"],
                reveal=bool(form.cleaned_data.get("reveal")),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except AccessDenied:
            raise
        else:
            handle = open(result.path, "rb")  # noqa: SIM115 - FileResponse closes it
            os.unlink(result.path)  # the open handle keeps the data until it is served
            response = FileResponse(
                handle,
                as_attachment=True,
                filename=result.filename,
                content_type=result.content_type,
            )
            response["X-Kehu-Row-Count"] = str(result.rows)
            return response
    count = selectors.customer_list(actor=request.user, filters=filter_form.filters()).count()
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "customers/customer_export.html",
        {
            "form": form,
            "filter_form": filter_form,
            "filters_shown": _filters_shown(filter_form),
            "count": count,
            "query": query,
        },
        status=status,
    )


def _filters_shown(form: CustomerFilterForm) -> list[tuple[Any, str]]:
    """The filters in force, as (label, value) pairs people can read."""
    shown = []
    data = getattr(form, "cleaned_data", {})
    for name, field in form.fields.items():
        value = data.get(name)
        if value in (None, "", False):
            continue
        if name == "sort":
            continue
        if hasattr(field, "choices") and not isinstance(field, forms.BooleanField):
            value = dict(field.choices).get(value, value)
        elif value is True:
            value = _("yes")
        shown.append((field.label, str(value)))
    return shown

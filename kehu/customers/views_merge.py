"""Pages for duplicates, merging and restoring customers.

- the live duplicate check of the create form (htmx) and the "create anyway" step;
- the merge page: the chosen customers side by side, the surviving record, a value per
  field, a reason; old ids of merged customers lead to the survivor;
- the list of deleted customers for administrators, with a restore button.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require
from kehu.core.forms import StyledForm
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.customers import masking, selectors, services
from kehu.customers.merging import MAX_MERGE, MERGE_FIELDS
from kehu.customers.models import Customer

PAGE_SIZE = 50
# History entries a merge writes that are not fields of the customer.
HISTORY_LABELS = {"merged_from": gettext_lazy("merged from")}
CHECKED_FIELDS = ("name", "company", "mobile", "email", "city", "kind")


def reason_labels() -> dict[str, str]:
    return {
        "mobile": _("same mobile"),
        "email": _("same email"),
        "name_company": _("same name and company"),
        "pinyin_city": _("same pinyin name and city"),
    }


def _matches_for_display(matches: list[Any]) -> list[dict[str, Any]]:
    labels = reason_labels()
    return [{"match": m, "reasons": [labels[r] for r in m.reasons]} for m in matches]


# --- Duplicates on the create page ---------------------------------------------------------


def duplicates_for_form(request: HttpRequest, form: Any, *, exclude_id: int | None = None) -> list:
    """The likely duplicates of a valid customer form's values."""
    data = form.cleaned_data
    return selectors.likely_duplicates(
        actor=request.user,
        exclude_id=exclude_id,
        **{name: str(data.get(name) or "") for name in CHECKED_FIELDS},
    )


def duplicate_context(request: HttpRequest, matches: list[Any]) -> dict[str, Any]:
    """What customer_form.html needs to show the duplicate check (and its results)."""
    return {
        "check_duplicates": True,
        "duplicates": _matches_for_display(matches),
        "create_anyway": request.POST.get("create_anyway") == "1",
    }


def create_blocked_by_duplicates(request: HttpRequest, matches: list[Any]) -> bool:
    """A create with likely duplicates needs an explicit "create anyway"."""
    return bool(matches) and request.POST.get("create_anyway") != "1"


@require(Perm.CHANGE_CUSTOMERS)
def duplicate_check(request: HttpRequest) -> HttpResponse:
    """htmx: the likely duplicates of what is being typed into the create form."""
    values = {name: (request.GET.get(name) or "")[:254] for name in CHECKED_FIELDS}
    matches = selectors.likely_duplicates(actor=request.user, **values)
    return render(
        request,
        "customers/partials/duplicates.html",
        {"duplicates": _matches_for_display(matches), "create_anyway": False},
    )


# --- Old ids of merged customers -------------------------------------------------------------


def follow_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """The page of a merged customer's survivor (following chains), if the user may see
    it; otherwise 404, as for any customer they may not see."""
    survivor = selectors.merged_survivor(actor=request.user, pk=pk)
    if survivor is None:
        raise Http404
    messages.info(
        request,
        _("Customer #%(old)d was merged into this one.") % {"old": pk},
    )
    return redirect("customers:detail", pk=survivor.pk)


# --- Merge ------------------------------------------------------------------------------------


class MergeForm(StyledForm):
    reason = forms.CharField(
        label=gettext_lazy("Why are these customers merged?"),
        max_length=200,
        widget=forms.TextInput(attrs={"maxlength": "200"}),
    )


def _selected_ids(request: HttpRequest) -> list[int]:
    source = request.POST if request.method == "POST" else request.GET
    ids: list[int] = []
    for raw in source.getlist("ids"):
        if not raw.isdigit() or len(raw) > 18:
            raise Http404
        if int(raw) not in ids:
            ids.append(int(raw))
    return ids


def _field_label(name: str) -> str:
    return str(Customer._meta.get_field(name).verbose_name)


def _shown(customer: Customer, name: str) -> str:
    """A field's value as the merge page shows it: choices by label, sensitive masked."""
    if name == "referrer":
        return customer.referrer.name if customer.referrer else ""
    value = getattr(customer, name)
    if value in (None, ""):
        return ""
    if name in masking.MASKED_FIELDS:
        return masking.mask_value(name, str(value))
    display = getattr(customer, f"get_{name}_display", None)
    return str(display()) if display else str(value)


def _rows(customers: list[Customer], chosen: dict[str, int]) -> list[dict[str, Any]]:
    """One row per field: each record's value; a choice where they differ."""
    rows = []
    for name in MERGE_FIELDS:
        cells = [{"customer": c, "value": _shown(c, name)} for c in customers]
        values = {cell["value"] for cell in cells}
        rows.append(
            {
                "name": name,
                "label": _field_label(name),
                "cells": cells,
                "differs": len(values) > 1,
                "chosen": chosen.get(name),
            }
        )
    return rows


def _choices_from(request: HttpRequest, ids: list[int]) -> dict[str, int]:
    chosen = {}
    for name in MERGE_FIELDS:
        raw = request.POST.get(f"field_{name}", "")
        if raw.isdigit() and int(raw) in ids:
            chosen[name] = int(raw)
    return chosen


@require(Perm.MERGE_CUSTOMERS)
def merge_page(request: HttpRequest) -> HttpResponse:
    """Merge customers chosen on the list: side by side, pick the surviving record and,
    where they differ, the value of each field; confirm with a reason."""
    ids = _selected_ids(request)
    customers = selectors.merge_candidates(actor=request.user, ids=ids)
    if len(customers) != len(ids):
        known = selectors.merge_candidates(actor=request.user, ids=ids, include_deleted=True)
        if request.method != "POST" or len(known) != len(ids):
            raise Http404  # one of them is not there for this user
        messages.error(request, _("One of these customers was merged or deleted meanwhile."))
        return redirect("customers:list")
    if len(ids) < 2 or len(ids) > MAX_MERGE:
        messages.error(
            request,
            _("Choose between 2 and %(n)d customers to merge.") % {"n": MAX_MERGE},
        )
        return redirect("customers:list")
    form = MergeForm(request.POST or None)
    target_id = ids[0]
    chosen: dict[str, int] = {}
    conflict, status = "", 200
    if request.method == "POST":
        raw_target = request.POST.get("target", "")
        target_id = int(raw_target) if raw_target.isdigit() and int(raw_target) in ids else ids[0]
        chosen = _choices_from(request, ids)
        if form.is_valid():
            by_id = {c.pk: c for c in customers}
            versions = {}
            for pk in ids:
                raw = request.POST.get(f"version_{pk}", "")
                versions[pk] = int(raw) if raw.isdigit() and len(raw) < 10 else -1
            try:
                survivor = services.customers_merge(
                    actor=request.user,
                    target=by_id[target_id],
                    others=[by_id[pk] for pk in ids if pk != target_id],
                    reason=form.cleaned_data["reason"],
                    versions=versions,
                    choices=chosen,
                )
            except ConflictError:
                conflict, status = (
                    _(
                        "Someone else changed one of these customers — check the values "
                        "again and confirm."
                    ),
                    409,
                )
                customers = selectors.merge_candidates(actor=request.user, ids=ids)
                if len(customers) != len(ids):
                    messages.error(request, _("One of these customers was merged or deleted."))
                    return redirect("customers:list")
            except ValidationError as exc:
                form.add_error(None, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("%(n)d customers merged into %(name)s.")
                    % {"n": len(ids), "name": survivor.name},
                )
                return redirect("customers:detail", pk=survivor.pk)
        if form.errors and status == 200:
            status = 400
    return render(
        request,
        "customers/merge.html",
        {
            "customers": customers,
            "target_id": target_id,
            "rows": _rows(customers, chosen),
            "form": form,
            "conflict": conflict,
            "tag_cells": [sorted(t.name for t in c.tags.all()) for c in customers],
        },
        status=status,
    )


# --- Deleted customers and restore -----------------------------------------------------------


class DeletedSearchForm(StyledForm):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


@require(Perm.RESTORE_CUSTOMERS)
def deleted_list(request: HttpRequest) -> HttpResponse:
    """Deleted customers that can still be restored (until the purge)."""
    form = DeletedSearchForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    rows = selectors.deleted_customers(actor=request.user, q=q)
    page = Paginator(rows, PAGE_SIZE, allow_empty_first_page=True).get_page(request.GET.get("page"))
    keep = timedelta(days=settings.KEHU_PURGE_AFTER_DAYS)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "customers/deleted_list.html",
        {
            "form": form,
            "page": page,
            "rows": [{"customer": c, "purge_at": c.deleted_at + keep} for c in page],
            "query": query.urlencode(),
            "purge_days": settings.KEHU_PURGE_AFTER_DAYS,
        },
    )


@require(Perm.RESTORE_CUSTOMERS)
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = services.customer_restore(actor=request.user, customer_id=pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    except RuleViolation as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:deleted")
    messages.success(request, _("%(name)s is restored.") % {"name": customer.name})
    if has_perm(request.user, Perm.VIEW_CUSTOMERS) and (
        selectors.customer_list(actor=request.user).filter(pk=customer.pk).exists()
    ):
        return redirect("customers:detail", pk=customer.pk)
    return redirect("customers:deleted")

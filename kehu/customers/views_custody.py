"""Pages of custody (严格资料的利用和借阅): the masked fields on the customer file and their
audited reveal, and the file's lending book ("who looked at this file").

``file_extras`` gives the customer page what it shows of custody and writes the
``customer.view`` entry of the lending book; ``edit_extras`` does the same for the edit form.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.access import require
from kehu.core.permissions import Perm
from kehu.core.views import is_htmx
from kehu.customers import custody, custom_fields, selectors
from kehu.customers.masking import MASKED_FIELDS, can_reveal, mask_value, masked_values
from kehu.customers.models import Customer

ACCESS_PAGE_SIZE = 50

# How the lending book names what happened; other actions show as they are recorded.
ACTION_LABELS = {
    "customer.view": gettext_lazy("Opened the file"),
    "customer.reveal": gettext_lazy("Revealed masked fields"),
    "customer.export": gettext_lazy("Exported"),
    "customer.create": pgettext_lazy("file access", "Created the file"),
    "customer.update": gettext_lazy("Changed"),
    "customer.verify": gettext_lazy("Marked verified"),
    "customer.claim": gettext_lazy("Claimed from the pool"),
    "customer.release": gettext_lazy("Released to the pool"),
    "customer.transfer": gettext_lazy("Handed over"),
    "customer.interaction": gettext_lazy("Added to the timeline"),
    "customer.followup_done": gettext_lazy("Ticked off a next step"),
    "customer.merge": gettext_lazy("Merged"),
    "customers.customer.delete": gettext_lazy("Deleted"),
    "customers.customer.restore": gettext_lazy("Restored"),
}
VIA_LABELS = {
    "page": gettext_lazy("page"),
    "api": gettext_lazy("API"),
    "edit": gettext_lazy("edit form"),
}


def _visible(request: HttpRequest, pk: int) -> Customer:
    try:
        return selectors.customer_get(actor=request.user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _title(name: str) -> str:
    field: Any = Customer._meta.get_field(name)
    return str(capfirst(field.verbose_name))


def pii_rows(values: dict[str, str], *, revealed: bool) -> dict[str, dict[str, Any]]:
    """The masked fields as the page shows them: key → {key, title, value, revealed}."""
    return {
        name: {
            "key": name,
            "title": _title(name),
            "value": values.get(name, ""),
            "revealed": revealed,
        }
        for name in MASKED_FIELDS
    }


def custom_rows(customer: Customer) -> list[dict[str, Any]]:
    """The custom fields of the file: every active field in position order, then values of
    retired fields (kept, marked as such)."""
    values = customer.custom or {}
    rows = []
    seen = set()
    for field in custom_fields.all_fields():
        if field.is_active or field.key in values:
            seen.add(field.key)
            rows.append(
                {
                    "key": field.key,
                    "label": field.label,
                    "value": values.get(field.key),
                    "retired": not field.is_active,
                }
            )
    for key in sorted(set(values) - seen):  # a key without a definition: keep it visible
        rows.append({"key": key, "label": key, "value": values[key], "retired": True})
    return rows


def file_extras(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    """What the customer page shows of custody; records the opening in the lending book."""
    custody.customer_view_record(actor=request.user, customer=customer, via="page")
    return {
        "pii": pii_rows(masked_values(customer), revealed=False),
        "custom_rows": custom_rows(customer),
        "can_reveal": can_reveal(request.user)
        and any(masked_values(customer, revealed=True).values()),
        "can_view_access": selectors.may_view_file_access(actor=request.user, customer=customer),
    }


def edit_reveal(request: HttpRequest, customer: Customer) -> bool:
    """Whether the edit form shows the masked fields in the clear. Opening it does reveal
    them, so it is audited as a reveal (once per opening, not on each re-rendered POST)."""
    if not can_reveal(request.user):
        return False
    if request.method == "GET" and any(masked_values(customer, revealed=True).values()):
        custody.customer_reveal(actor=request.user, customer=customer, via="edit")
    return True


# --- Reveal ---------------------------------------------------------------------------------


@require(Perm.REVEAL_CUSTOMER_PII)
@require_POST
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the masked fields in the clear (audited). htmx swaps the values into the page;
    without JavaScript a page lists them."""
    customer = _visible(request, pk)
    values = custody.customer_reveal(actor=request.user, customer=customer, via="page")
    context = {"customer": customer, "pii": pii_rows(values, revealed=True)}
    if is_htmx(request):
        return render(request, "customers/custody/revealed.html", context)
    return render(request, "customers/custody/revealed_page.html", context)


# --- The lending book -----------------------------------------------------------------------


def _event_row(event: Any, labels: dict[str, str]) -> dict[str, Any]:
    changes = event.changes if isinstance(event.changes, dict) else {}
    details = []
    fields = changes.get("fields")
    if isinstance(fields, list) and len(fields) == 2 and isinstance(fields[1], list):
        details = [_title(name) if name in MASKED_FIELDS else str(name) for name in fields[1]]
    elif event.action not in ("customer.view", "customer.reveal"):
        for name in list(changes)[:20]:
            if name in ("via", "reason", "ids"):
                continue
            if name.startswith(custom_fields.HISTORY_PREFIX):
                details.append(labels.get(name[len(custom_fields.HISTORY_PREFIX) :], name))
                continue
            try:
                details.append(_title(name))
            except Exception:  # not a customer field (tags, owner …): its name
                details.append(name)
    via = changes.get("via")
    via_value = via[1] if isinstance(via, list) and len(via) == 2 else ""
    return {
        "event": event,
        "action": ACTION_LABELS.get(event.action, event.action),
        "details": details,
        "via": VIA_LABELS.get(via_value, via_value),
        "who": (event.actor.get_full_name() if event.actor is not None else "")
        or event.actor_label,
    }


@require(Perm.VIEW_CUSTOMERS)
def file_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Who looked at this file and when (借阅记录): the customer's audit events, newest first,
    for its owner and for roles with ``customers.view_access``."""
    customer = _visible(request, pk)
    if not selectors.may_view_file_access(actor=request.user, customer=customer):
        raise Http404
    events = selectors.file_access_log(actor=request.user, customer=customer)
    page = Paginator(events, ACCESS_PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    labels = custom_fields.field_labels()
    return render(
        request,
        "customers/custody/file_access.html",
        {
            "customer": customer,
            "page": page,
            "rows": [_event_row(event, labels) for event in page],
            "query": "",
            "title": _("Who looked at this file"),
        },
    )


def masked_history_value(field: str, value: Any) -> Any:
    """A history value as the page shows it: masked for the masked fields."""
    return mask_value(field, value) if field in MASKED_FIELDS and isinstance(value, str) else value

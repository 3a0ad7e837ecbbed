"""Custody of the customer file (严格资料的利用和借阅): the audited acts of reading it.

- ``customer_view_record``: opening a customer's file (page or API) is written to the
  "lending book" as ``customer.view``.
- ``customer_reveal``: showing the masked fields in the clear (mobile, phone, ID number,
  street, free-form address) is allowed only to roles with ``customers.reveal`` and is
  written as ``customer.reveal`` with the names of the fields revealed.

Both are writes in the services' sense: keyword-only, checked, audited in one transaction.
Events carry ``object_type="customers.customer"`` and the customer's id, so the audit
log's object index serves the file's access page (``selectors.file_access_log``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kehu.core.access import AccessDenied, scoped
from kehu.core.audit import audit_record
from kehu.core.permissions import Perm
from kehu.customers.masking import can_reveal, masked_values
from kehu.customers.models import Customer

VIEW = "customer.view"
REVEAL = "customer.reveal"


def _visible(actor: Any, customer: Customer) -> None:
    if not scoped(actor, Perm.VIEW_CUSTOMERS, Customer).filter(pk=customer.pk).exists():
        raise AccessDenied(Perm.VIEW_CUSTOMERS)


def customer_view_record(*, actor: Any, customer: Customer, via: str = "page") -> None:
    """Write the lending-book entry for opening ``customer``'s file."""
    with transaction.atomic():
        audit_record(actor=actor, action=VIEW, obj=customer, changes={"via": [None, via]})


def customer_reveal(*, actor: Any, customer: Customer, via: str = "page") -> dict[str, str]:
    """The masked fields of ``customer`` in the clear, for a reader whose role may reveal
    them and who may see the customer; audited with the names of the fields shown.
    ``via``: where it happened ("page", "api", "edit" — the edit form shows them too)."""
    if not can_reveal(actor):
        raise AccessDenied(Perm.REVEAL_CUSTOMER_PII)
    _visible(actor, customer)
    values = masked_values(customer, revealed=True)
    shown = sorted(name for name, value in values.items() if value)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=REVEAL,
            obj=customer,
            changes={"fields": [None, shown], "via": [None, via]},
        )
    return values

"""Writes of customer needs (需求). Keyword-only, one transaction, scoped, audited.

A need is part of the customer file: whoever may change the customer (Perm.CHANGE_CUSTOMERS
and the customer in their data scope) may record and change its needs.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm, scoped
from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.core.services import record_soft_delete
from kehu.customers.models import Customer
from kehu.needs.choices import (
    DecisionFactor,
    NeedDomain,
    NeedNature,
    NeedSource,
    NeedStatus,
    Priority,
)
from kehu.needs.models import Need

EDITABLE = (
    "title",
    "description",
    "domain",
    "nature",
    "factor",
    "source",
    "priority",
    "status",
)
REQUIRED = ("title", "domain", "nature", "source")
CHOICES: dict[str, Any] = {
    "domain": NeedDomain,
    "nature": NeedNature,
    "factor": DecisionFactor,
    "source": NeedSource,
    "priority": Priority,
    "status": NeedStatus,
}
MAX_LENGTHS = {"title": 200, "description": 10_000}


def _printable(value: str, *, multiline: bool) -> str:
    keep = "\n\t" if multiline else ""
    return "".join(ch for ch in value if ch in keep or ch.isprintable()).strip()


def clean_need_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise need fields; ValidationError names every bad field."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown need fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if not isinstance(value, str):
            errors[name] = _("Enter text.")
            continue
        value = _printable(value, multiline=name == "description")
        if name in MAX_LENGTHS and len(value) > MAX_LENGTHS[name]:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_LENGTHS[name]}
        if name in CHOICES and value not in CHOICES[name].values:
            errors[name] = _("Not one of the choices.")
        clean[name] = value
    if "title" in clean and not clean["title"] and "title" not in errors:
        errors["title"] = _("Say what the customer needs.")
    if errors:
        raise ValidationError(errors)
    return clean


def _require_changeable(actor: Any, customer_id: int) -> None:
    if not has_perm(actor, Perm.CHANGE_CUSTOMERS):
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer_id).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)


def need_create(
    *,
    actor: Any,
    customer: Customer,
    title: str,
    domain: str,
    nature: str,
    source: str,
    description: str = "",
    factor: str = DecisionFactor.NONE,
    priority: str = Priority.MEDIUM,
    status: str = NeedStatus.OPEN,
) -> Need:
    """Record a need learnt from a customer the actor may change."""
    _require_changeable(actor, customer.pk)
    clean = clean_need_fields(
        {
            "title": title,
            "description": description,
            "domain": domain,
            "nature": nature,
            "factor": factor,
            "source": source,
            "priority": priority,
            "status": status,
        }
    )
    with transaction.atomic():
        need = Need.objects.create(
            customer=customer, author=actor if getattr(actor, "pk", None) else None, **clean
        )
        changes = diff({}, clean)
        changes["customer"] = [None, customer.pk]
        audit_record(actor=actor, action="needs.need.create", obj=need, changes=changes)
    return need


def need_update(*, actor: Any, need: Need, expected_version: int, **fields: Any) -> Need:
    """Change a need; a stale ``expected_version`` conflicts (nothing is overwritten)."""
    _require_changeable(actor, need.customer_id)
    clean = clean_need_fields(fields)
    with transaction.atomic():
        current = Need.objects.select_for_update().filter(pk=need.pk).first()
        if current is None:
            raise AccessDenied(Perm.CHANGE_CUSTOMERS)
        if current.version != expected_version:
            raise ConflictError(need)
        changes = diff({name: getattr(current, name) for name in clean}, clean)
        if changes:
            for name, value in clean.items():
                setattr(current, name, value)
            current.save_versioned(expected_version=expected_version, update_fields=sorted(changes))
            action = "needs.need.status" if set(changes) == {"status"} else "needs.need.update"
            audit_record(actor=actor, action=action, obj=current, changes=changes)
    for name in (*EDITABLE, "version", "updated_at"):
        setattr(need, name, getattr(current, name))
    return need


def need_set_status(*, actor: Any, need: Need, status: str, expected_version: int) -> Need:
    """Move a need along: open → being worked on → met (or not pursued)."""
    return need_update(actor=actor, need=need, expected_version=expected_version, status=status)


def need_delete(*, actor: Any, need: Need, expected_version: int) -> None:
    """Soft-delete a need (restorable); a stale ``expected_version`` conflicts."""
    _require_changeable(actor, need.customer_id)
    with transaction.atomic():
        record_soft_delete(actor=actor, obj=need, expected_version=expected_version)

"""Helpers the sales services share: access checks, text and money cleaning."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.sales.money import MAX_AMOUNT, cents, to_decimal


def require_perm(actor: Any, perm: str) -> None:
    if not has_perm(actor, perm):
        raise AccessDenied(perm)


def visible_customer(actor: Any, customer: Customer | int) -> Customer:
    """The customer if the actor may see it (selling to a customer needs no more)."""
    pk = customer.pk if isinstance(customer, Customer) else customer
    found = scoped(actor, Perm.VIEW_CUSTOMERS, Customer).filter(pk=pk).first()
    if found is None:
        raise AccessDenied(Perm.VIEW_CUSTOMERS)
    return found


def credited_owner(actor: Any, owner: Any) -> Any:
    """The salesperson a record is credited to: the actor, or a colleague in the actor's
    scope. Returns a user; AccessDenied for anyone else."""
    if owner is None or getattr(owner, "pk", owner) == getattr(actor, "pk", None):
        return actor
    pk = getattr(owner, "pk", owner)
    user = scoped(actor, Perm.CHANGE_SALES, get_user_model()).filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"owner": _("Choose an active colleague you may assign work to.")})
    return user


def owner_fields(owner: Any) -> dict[str, Any]:
    return {
        "owner": owner if getattr(owner, "pk", None) else None,
        "team_id": getattr(owner, "team_id", None),
        "department_id": getattr(owner, "department_id", None),
    }


def clean_text(
    value: Any, field: str, errors: dict[str, str], *, limit: int, multiline=False
) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = _("Enter text.")
        return ""
    keep = "\n\t" if multiline else ""
    value = "".join(ch for ch in value if ch in keep or ch.isprintable()).strip()
    if len(value) > limit:
        errors[field] = _("At most %(n)d characters.") % {"n": limit}
    return value


def clean_money(
    value: Any, field: str, errors: dict[str, str], *, allow_zero: bool = True
) -> Decimal:
    try:
        amount = to_decimal(value)
    except ValueError:
        errors[field] = _("Enter an amount such as 1280.50.")
        return Decimal(0)
    if amount > MAX_AMOUNT:  # before rounding: 1E+30 cannot be quantized to cents
        errors[field] = _("This amount is too large.")
        return Decimal(0)
    if amount < -MAX_AMOUNT:
        errors[field] = _("Enter an amount greater than zero.")
        return Decimal(0)
    if amount != cents(amount):
        errors[field] = _("Amounts have at most two decimal places.")
    elif amount < 0 or (amount == 0 and not allow_zero):
        errors[field] = _("Enter an amount greater than zero.")
    elif amount > MAX_AMOUNT:
        errors[field] = _("This amount is too large.")
    return cents(amount) if field not in errors else Decimal(0)


def clean_choice(value: Any, field: str, errors: dict[str, str], choices: Any) -> str:
    if value not in choices.values:
        errors[field] = _("Not one of the choices.")
        return ""
    return value


def clean_date(value: Any, field: str, errors: dict[str, str], *, required=True) -> date | None:
    if value in (None, ""):
        if required:
            errors[field] = _("Enter a date.")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except ValueError:  # well formed but not a date, e.g. 2026-13-01
        parsed = None
    if parsed is None:
        errors[field] = _("Enter a date such as 2026-03-05.")
    return parsed


def clean_datetime(value: Any, field: str, errors: dict[str, str]) -> datetime:
    if value in (None, ""):
        return timezone.now()
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            day = parse_date(value) if len(value) == 10 else None
            moment = datetime(day.year, day.month, day.day) if day else None
        if moment is None:
            errors[field] = _("Enter a date and time such as 2026-03-05 14:30.")
            return timezone.now()
    else:
        errors[field] = _("Enter a date and time such as 2026-03-05 14:30.")
        return timezone.now()
    assert moment is not None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError(errors)


def locked_for_change(actor: Any, model: Any, obj: Any) -> Any:
    """``obj`` read again and locked (SELECT … FOR UPDATE) if the actor may change it;
    AccessDenied otherwise. Call inside the writer's transaction."""
    require_perm(actor, Perm.CHANGE_SALES)
    current = scoped(actor, Perm.CHANGE_SALES, model).select_for_update().filter(pk=obj.pk).first()
    if current is None:
        raise AccessDenied(Perm.CHANGE_SALES)
    return current


def delete_in_scope(*, actor: Any, obj: Any, expected_version: int) -> None:
    """Soft-delete a sales record the actor may delete (restorable until the purge)."""
    from kehu.core.services import record_soft_delete

    require_perm(actor, Perm.DELETE_SALES)
    if not scoped(actor, Perm.DELETE_SALES, type(obj)).filter(pk=obj.pk).exists():
        raise AccessDenied(Perm.DELETE_SALES)
    record_soft_delete(actor=actor, obj=obj, expected_version=expected_version)


def restore_in_scope(*, actor: Any, model: Any, pk: int) -> Any:
    """Bring back a deleted sales record the actor may delete (until the purge)."""
    from kehu.core.services import record_restore

    require_perm(actor, Perm.DELETE_SALES)
    deleted = model.all_objects.filter(deleted_at__isnull=False)
    found = scoped(actor, Perm.DELETE_SALES, deleted).filter(pk=pk).first()
    if found is None:
        raise AccessDenied(Perm.DELETE_SALES)
    record_restore(actor=actor, obj=found)
    return found


def reassigned_to(actor: Any, owner: Any) -> dict[str, Any]:
    """The fields that credit a record to ``owner`` (checked by ``credited_owner``)."""
    credited = credited_owner(actor, owner)
    return {
        "owner": credited,
        "team_id": credited.team_id,
        "department_id": credited.department_id,
    }

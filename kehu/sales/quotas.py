"""Writes of sales plans and quotas (销售计划/销售定额)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import Team
from kehu.core.access import AccessDenied, scope_of, scoped
from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm, Scope
from kehu.core.services import record_soft_delete
from kehu.sales.choices import QuotaPeriod
from kehu.sales.common import (
    clean_choice,
    clean_date,
    clean_money,
    clean_text,
    raise_if,
    require_perm,
)
from kehu.sales.models import Quota


def period_start(period: str, day: date) -> date:
    """The first day of the month, quarter or year that contains ``day``."""
    if period == QuotaPeriod.MONTH:
        return day.replace(day=1)
    if period == QuotaPeriod.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def period_end(period: str, start: date) -> date:
    """The first day after the period that starts on ``start``."""
    months = {"month": 1, "quarter": 3, "year": 12}[str(period)]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _target(actor: Any, user: Any, team: Any) -> tuple[Any, Team | None]:
    """The person or team a quota is for, if the actor may plan for them."""
    if (user is None) == (team is None):
        raise RuleViolation({"user": _("Set the quota for a person or for a team.")}, "target")
    if user is not None:
        found = (
            scoped(actor, Perm.MANAGE_QUOTAS, get_user_model())
            .filter(pk=getattr(user, "pk", user))
            .first()
        )
        if found is None:
            raise AccessDenied(Perm.MANAGE_QUOTAS)
        return found, found.team
    found_team = Team.objects.filter(pk=getattr(team, "pk", team)).first()
    scope = scope_of(actor)
    allowed = found_team is not None and (
        scope == Scope.ALL
        or (scope == Scope.DEPARTMENT and found_team.department_id == actor.department_id)
        or (scope == Scope.TEAM and found_team.pk == actor.team_id)
    )
    if not allowed:
        raise AccessDenied(Perm.MANAGE_QUOTAS)
    return None, found_team


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "period" in fields:
        clean["period"] = clean_choice(fields["period"], "period", errors, QuotaPeriod)
    if "starts_on" in fields:
        clean["starts_on"] = clean_date(fields["starts_on"], "starts_on", errors)
    if "amount" in fields:
        clean["amount"] = clean_money(fields["amount"], "amount", errors)
    if "new_customers" in fields:
        value = fields["new_customers"]
        if value in (None, ""):
            clean["new_customers"] = None
        else:
            try:
                if isinstance(value, bool):
                    raise ValueError
                clean["new_customers"] = int(value)
                if not 0 <= clean["new_customers"] <= 10**6:
                    raise ValueError
            except (TypeError, ValueError):
                errors["new_customers"] = _("Enter a whole number of customers.")
    if "notes" in fields:
        clean["notes"] = clean_text(fields["notes"], "notes", errors, limit=200)
    raise_if(errors)
    if clean.get("period") and clean.get("starts_on"):
        clean["starts_on"] = period_start(clean["period"], clean["starts_on"])
    return clean


def quota_create(
    *,
    actor: Any,
    period: str,
    starts_on: Any,
    amount: Any,
    user: Any = None,
    team: Any = None,
    new_customers: Any = None,
    notes: str = "",
) -> Quota:
    """Set a person's or a team's target for a period (its start is moved to the first
    day of the period)."""
    require_perm(actor, Perm.MANAGE_QUOTAS)
    clean = _clean(
        {
            "period": period,
            "starts_on": starts_on,
            "amount": amount,
            "new_customers": new_customers,
            "notes": notes,
        }
    )
    person, quota_team = _target(actor, user, team)
    try:
        with transaction.atomic():
            quota = Quota.objects.create(user=person, team=quota_team, **clean)
            changes = diff({}, clean)
            changes.update(user=[None, quota.user_id], team=[None, quota.team_id])
            audit_record(actor=actor, action="sales.quota.create", obj=quota, changes=changes)
    except IntegrityError:
        raise RuleViolation(
            {"starts_on": _("There is already a quota for this period.")}, "duplicate"
        ) from None
    return quota


def _changeable(actor: Any, quota: Quota) -> Quota:
    require_perm(actor, Perm.MANAGE_QUOTAS)
    current = scoped(actor, Perm.MANAGE_QUOTAS, Quota).select_for_update().filter(pk=quota.pk)
    found = current.first()
    if found is None:
        raise AccessDenied(Perm.MANAGE_QUOTAS)
    return found


def quota_update(*, actor: Any, quota: Quota, expected_version: int, **fields: Any) -> Quota:
    unknown = set(fields) - {"amount", "new_customers", "notes"}
    if unknown:
        raise TypeError(f"Unknown quota fields: {sorted(unknown)}")
    clean = _clean(fields)
    with transaction.atomic():
        current = _changeable(actor, quota)
        if current.version != expected_version:
            raise ConflictError(quota)
        changes = diff({n: getattr(current, n) for n in clean}, clean)
        if changes:
            for name, value in clean.items():
                setattr(current, name, value)
            current.save_versioned(expected_version=expected_version, update_fields=sorted(clean))
            audit_record(actor=actor, action="sales.quota.update", obj=current, changes=changes)
    return current


def quota_delete(*, actor: Any, quota: Quota, expected_version: int) -> None:
    with transaction.atomic():
        _changeable(actor, quota)
        record_soft_delete(actor=actor, obj=quota, expected_version=expected_version)

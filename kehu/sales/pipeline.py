"""Writes of the pipeline: its stages (configurable) and opportunities (商机) moving
through them to won or lost. A stage move is version-checked and audited, so two people
dragging the same card at once cannot both win silently: the second gets a conflict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.sales.choices import OpportunityStatus
from kehu.sales.common import (
    clean_date,
    clean_money,
    clean_text,
    credited_owner,
    delete_in_scope,
    locked_for_change,
    owner_fields,
    raise_if,
    reassigned_to,
    require_perm,
    restore_in_scope,
    visible_customer,
)
from kehu.sales.models import Contract, Opportunity, Order, PipelineStage

EDITABLE = ("title", "amount", "expected_close", "notes")


# --- stages -------------------------------------------------------------------------


def _clean_stage(fields: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in ("name_en", "name_zh_hans", "name_zh_hant"):
        if name in fields:
            clean[name] = clean_text(fields[name], name, errors, limit=100)
    if {"name_en", "name_zh_hans", "name_zh_hant"} <= set(clean) and not any(
        clean[n] for n in ("name_en", "name_zh_hans", "name_zh_hant")
    ):
        errors["name_en"] = _("Name the stage in at least one language.")
    if "probability" in fields:
        try:
            probability = int(fields["probability"])
            if not 0 <= probability <= 100:
                raise ValueError
            clean["probability"] = probability
        except (TypeError, ValueError):
            errors["probability"] = _("Enter a whole percentage from 0 to 100.")
    if "is_active" in fields:
        clean["is_active"] = bool(fields["is_active"])
    if "position" in fields:
        try:
            clean["position"] = max(0, min(int(fields["position"]), 1000))
        except (TypeError, ValueError):
            errors["position"] = _("Enter a whole number.")
    raise_if(errors)
    return clean


def stage_create(*, actor: Any, **fields: Any) -> PipelineStage:
    require_perm(actor, Perm.MANAGE_CATALOGUE)
    clean = _clean_stage(
        {"name_en": "", "name_zh_hans": "", "name_zh_hant": "", "probability": 10, **fields}
    )
    with transaction.atomic():
        if "position" not in clean:
            last = PipelineStage.objects.aggregate(m=Max("position"))["m"]
            clean["position"] = 0 if last is None else last + 1
        stage = PipelineStage.objects.create(**clean)
        audit_record(actor=actor, action="sales.stage.create", obj=stage, changes=diff({}, clean))
    return stage


def stage_update(*, actor: Any, stage: PipelineStage, **fields: Any) -> PipelineStage:
    require_perm(actor, Perm.MANAGE_CATALOGUE)
    clean = _clean_stage(fields)
    with transaction.atomic():
        current = PipelineStage.objects.select_for_update().get(pk=stage.pk)
        changes = diff({n: getattr(current, n) for n in clean}, clean)
        if changes:
            for name, value in clean.items():
                setattr(current, name, value)
            current.save(update_fields=[*clean, "updated_at"])
            audit_record(actor=actor, action="sales.stage.update", obj=current, changes=changes)
    return current


# --- opportunities ------------------------------------------------------------------


def _clean(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown opportunity fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "title" in fields:
        clean["title"] = clean_text(fields["title"], "title", errors, limit=200)
        if not clean["title"] and "title" not in errors:
            errors["title"] = _("Say what the opportunity is.")
    if "amount" in fields:
        clean["amount"] = clean_money(fields["amount"], "amount", errors)
    if "expected_close" in fields:
        clean["expected_close"] = clean_date(
            fields["expected_close"], "expected_close", errors, required=False
        )
    if "notes" in fields:
        clean["notes"] = clean_text(fields["notes"], "notes", errors, limit=5000, multiline=True)
    raise_if(errors)
    return clean


def _active_stage(stage: PipelineStage | int | None) -> PipelineStage:
    stages = PipelineStage.objects.filter(is_active=True)
    found = stages.filter(pk=getattr(stage, "pk", stage)).first() if stage else stages.first()
    if found is None:
        raise RuleViolation({"stage": _("Choose an active pipeline stage.")}, "stage")
    return found


def _changeable(actor: Any, opportunity: Opportunity) -> Opportunity:
    """The opportunity locked for update, if the actor may change it."""
    return locked_for_change(actor, Opportunity, opportunity)


def opportunity_create(
    *,
    actor: Any,
    customer: Customer | int,
    title: str,
    amount: Any,
    stage: PipelineStage | int | None = None,
    expected_close: Any = None,
    notes: str = "",
    owner: Any = None,
) -> Opportunity:
    require_perm(actor, Perm.CHANGE_SALES)
    found = visible_customer(actor, customer)
    clean = _clean(
        {"title": title, "amount": amount, "expected_close": expected_close, "notes": notes}
    )
    credited = credited_owner(actor, owner)
    with transaction.atomic():
        chosen = _active_stage(stage)
        opportunity = Opportunity.objects.create(
            customer=found, stage=chosen, **clean, **owner_fields(credited)
        )
        changes = diff({}, clean)
        changes.update(customer=[None, found.pk], stage=[None, chosen.pk])
        audit_record(
            actor=actor, action="sales.opportunity.create", obj=opportunity, changes=changes
        )
    return opportunity


def opportunity_update(
    *, actor: Any, opportunity: Opportunity, expected_version: int, owner: Any = None, **fields
) -> Opportunity:
    clean = _clean(fields)
    with transaction.atomic():
        current = _changeable(actor, opportunity)
        if current.version != expected_version:
            raise ConflictError(opportunity)
        if owner is not None:
            clean.update(reassigned_to(actor, owner))
        changes = diff({n: getattr(current, n) for n in clean}, clean)
        if changes:
            for name, value in clean.items():
                setattr(current, name, value)
            current.save_versioned(expected_version=expected_version, update_fields=sorted(clean))
            audit_record(
                actor=actor, action="sales.opportunity.update", obj=current, changes=changes
            )
    return current


def opportunity_move(
    *, actor: Any, opportunity: Opportunity, stage: PipelineStage | int, expected_version: int
) -> Opportunity:
    """Move an open opportunity to another stage (a card dragged on the board)."""
    with transaction.atomic():
        current = _changeable(actor, opportunity)
        if current.version != expected_version:
            raise ConflictError(opportunity)
        if current.status != OpportunityStatus.OPEN:
            raise RuleViolation(_("Reopen the opportunity before moving it."), code="closed")
        target = _active_stage(stage)
        if target.pk == current.stage_id:
            return current
        old = current.stage_id
        current.stage = target
        current.save_versioned(expected_version=expected_version, update_fields=["stage"])
        audit_record(
            actor=actor,
            action="sales.opportunity.move",
            obj=current,
            changes={"stage": [old, target.pk]},
        )
    return current


def opportunity_close(
    *,
    actor: Any,
    opportunity: Opportunity,
    status: str,
    expected_version: int,
    reason: str = "",
    order: Order | None = None,
    contract: Contract | None = None,
) -> Opportunity:
    """Mark an opportunity won or lost (lost needs a reason), or reopen it."""
    if status not in OpportunityStatus.values:
        raise RuleViolation({"status": _("Not one of the choices.")}, "status")
    errors: dict[str, str] = {}
    reason = clean_text(reason, "reason", errors, limit=200)
    if status == OpportunityStatus.LOST and not reason and "reason" not in errors:
        errors["reason"] = _("Say why the opportunity was lost.")
    raise_if(errors)
    with transaction.atomic():
        current = _changeable(actor, opportunity)
        if current.version != expected_version:
            raise ConflictError(opportunity)
        if current.status == status:
            return current
        old = current.status
        current.status = status
        current.closed_at = None if status == OpportunityStatus.OPEN else timezone.now()
        current.lost_reason = reason if status == OpportunityStatus.LOST else ""
        fields = ["status", "closed_at", "lost_reason"]
        if order is not None:
            current.order = order
            fields.append("order")
        if contract is not None:
            current.contract = contract
            fields.append("contract")
        current.save_versioned(expected_version=expected_version, update_fields=fields)
        audit_record(
            actor=actor,
            action=f"sales.opportunity.{'reopen' if status == 'open' else status}",
            obj=current,
            changes={"status": [old, status], "reason": current.lost_reason},
        )
    return current


def opportunity_win(
    *,
    actor: Any,
    opportunity: Opportunity,
    expected_version: int,
    create: str = "",
    lines: list[Mapping[str, Any]] | None = None,
    contract_fields: Mapping[str, Any] | None = None,
) -> Opportunity:
    """Mark won; with ``create="order"`` or ``"contract"`` also record the order (lines,
    or one line of the expected amount) or a draft contract, linked to the opportunity."""
    from kehu.sales.contracts import contract_create
    from kehu.sales.orders import order_create

    with transaction.atomic():
        current = _changeable(actor, opportunity)
        if current.version != expected_version:
            raise ConflictError(opportunity)
        order = contract = None
        if create == "order":
            order = order_create(
                actor=actor,
                customer=current.customer_id,
                owner=current.owner,
                channel="field",
                lines=lines or [{"description": current.title, "unit_price": current.amount}],
            )
        elif create == "contract":
            today = timezone.localdate()
            fields = {
                "title": current.title,
                "value": current.amount,
                "starts_on": today,
                "ends_on": today.replace(year=today.year + 1)
                if not (today.month == 2 and today.day == 29)
                else today.replace(year=today.year + 1, day=28),
                **(contract_fields or {}),
            }
            contract = contract_create(
                actor=actor, customer=current.customer_id, owner=current.owner, **fields
            )
        elif create:
            raise RuleViolation({"create": _("Not one of the choices.")}, "create")
        return opportunity_close(
            actor=actor,
            opportunity=current,
            status=OpportunityStatus.WON,
            expected_version=expected_version,
            order=order,
            contract=contract,
        )


def opportunity_delete(*, actor: Any, opportunity: Opportunity, expected_version: int) -> None:
    delete_in_scope(actor=actor, obj=opportunity, expected_version=expected_version)


def opportunity_restore(*, actor: Any, pk: int) -> Opportunity:
    """Bring back a deleted opportunity (within KEHU_PURGE_AFTER_DAYS)."""
    return restore_in_scope(actor=actor, model=Opportunity, pk=pk)

"""Writes of contracts (合同): terms, period, status, attachments, renewal and the
reminder before the end date.

The reminder is due on ``remind_on = ends_on - remind_days``, a calendar day in the
owner's time zone: ``contract_reminders`` (hourly) raises it once that day has begun
where the owner is, marks the contract *expiring*, and records it; contracts past
their end move to *expired* (manual renewal) or are renewed for the same length
(automatic renewal).
"""

from __future__ import annotations

import hashlib
import uuid
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied
from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.customers.models import Customer
from kehu.sales.choices import ContractStatus, RenewalType
from kehu.sales.common import (
    clean_choice,
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
from kehu.sales.models import Contract, ContractAttachment

TEXT_FIELDS = {
    "title": (200, False),
    "parties": (2000, True),
    "payment_terms": (10_000, True),
    "delivery_terms": (10_000, True),
    "transaction_rules": (10_000, True),
    "default_liability": (10_000, True),
}
EDITABLE = (
    *TEXT_FIELDS,
    "signed_on",
    "starts_on",
    "ends_on",
    "value",
    "renewal",
    "remind_days",
)
# What an attachment may be: recognised by its first bytes, not by its name.
ATTACHMENT_TYPES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"GIF87a": ("image/gif", "gif"),
    b"GIF89a": ("image/gif", "gif"),
}
MAX_ATTACHMENTS = 20


def attachment_max_bytes() -> int:
    return int(getattr(settings, "KEHU_ATTACHMENT_MAX_MB", 10)) * 1024 * 1024


def attachments_dir() -> Path:
    path = Path(settings.VAR_DIR) / "attachments"
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_path(attachment: ContractAttachment) -> Path:
    return attachments_dir() / attachment.stored_name


def clean_contract_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown contract fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name in TEXT_FIELDS:
            limit, multiline = TEXT_FIELDS[name]
            clean[name] = clean_text(value, name, errors, limit=limit, multiline=multiline)
        elif name in ("starts_on", "ends_on", "signed_on"):
            clean[name] = clean_date(value, name, errors, required=name != "signed_on")
        elif name == "value":
            clean[name] = clean_money(value, name, errors)
        elif name == "renewal":
            clean[name] = clean_choice(value, name, errors, RenewalType)
        elif name == "remind_days":
            if isinstance(value, bool) or not isinstance(value, int | str):
                errors[name] = _("Enter a whole number of days.")
                continue
            try:
                days = int(value)
            except ValueError:
                errors[name] = _("Enter a whole number of days.")
                continue
            if not 0 <= days <= 365:
                errors[name] = _("Between 0 and 365 days.")
            clean[name] = days
    if "title" in clean and not clean["title"] and "title" not in errors:
        errors["title"] = _("Give the contract a title.")
    raise_if(errors)
    return clean


def _check_period(contract: Contract) -> None:
    if contract.ends_on < contract.starts_on:
        raise RuleViolation({"ends_on": _("The end date is before the start date.")}, "period")


def _remind_on(contract: Contract) -> date:
    return contract.ends_on - timedelta(days=contract.remind_days)


def _changeable(actor: Any, contract: Contract) -> Contract:
    """The contract locked for update, if the actor may change it."""
    return locked_for_change(actor, Contract, contract)


def contract_number(pk: int) -> str:
    return f"HT-{pk:08d}"


def contract_create(
    *,
    actor: Any,
    customer: Customer | int,
    title: str,
    starts_on: Any,
    ends_on: Any,
    value: Any,
    number: str = "",
    owner: Any = None,
    status: str = ContractStatus.DRAFT,
    renewed_from: Contract | None = None,
    **fields: Any,
) -> Contract:
    """Record a contract with a customer the actor may see."""
    require_perm(actor, Perm.CHANGE_SALES)
    found = visible_customer(actor, customer)
    clean = clean_contract_fields(
        {"title": title, "starts_on": starts_on, "ends_on": ends_on, "value": value, **fields}
    )
    errors: dict[str, str] = {}
    number = clean_text(number, "number", errors, limit=64)
    if status not in (ContractStatus.DRAFT, ContractStatus.ACTIVE):
        errors["status"] = _("A new contract is a draft or active.")
    raise_if(errors)
    credited = credited_owner(actor, owner)
    with transaction.atomic():
        contract = Contract(
            customer=found,
            number=number or f"new-{uuid.uuid4().hex}",
            status=status,
            renewed_from=renewed_from,
            **clean,
            **owner_fields(credited),
        )
        _check_period(contract)
        contract.remind_on = _remind_on(contract)
        try:
            with transaction.atomic():
                contract.save()
        except IntegrityError:
            raise RuleViolation({"number": _("Another contract has this number.")}) from None
        if not number:
            contract.number = contract_number(contract.pk)
            Contract.objects.filter(pk=contract.pk).update(number=contract.number)
        changes = diff({}, clean)
        changes["customer"] = [None, found.pk]
        changes["status"] = [None, status]
        audit_record(actor=actor, action="sales.contract.create", obj=contract, changes=changes)
    return contract


def contract_update(
    *, actor: Any, contract: Contract, expected_version: int, owner: Any = None, **fields: Any
) -> Contract:
    """Change a contract's terms; a stale ``expected_version`` conflicts."""
    clean = clean_contract_fields(fields)
    with transaction.atomic():
        current = _changeable(actor, contract)
        if current.version != expected_version:
            raise ConflictError(contract)
        if owner is not None:
            clean.update(reassigned_to(actor, owner))
        before = {name: getattr(current, name) for name in clean}
        for name, value in clean.items():
            setattr(current, name, value)
        _check_period(current)
        changes = diff(before, clean)
        if not changes:
            return current
        update_fields = sorted(clean)
        if {"ends_on", "remind_days"} & set(changes):
            current.remind_on = _remind_on(current)
            update_fields.append("remind_on")
            if current.remind_on > timezone.localdate(timezone=_owner_zone(current)):
                # A new end date: the reminder is due again, and it is no longer expiring.
                current.reminded_at = None
                update_fields.append("reminded_at")
                if current.status == ContractStatus.EXPIRING:
                    current.status = ContractStatus.ACTIVE
                    update_fields.append("status")
        current.save_versioned(expected_version=expected_version, update_fields=update_fields)
        audit_record(actor=actor, action="sales.contract.update", obj=current, changes=changes)
    return current


# Which status a person may move a contract to, from which.
MOVES: dict[str, set[str]] = {
    ContractStatus.ACTIVE: {ContractStatus.DRAFT},
    ContractStatus.TERMINATED: {
        ContractStatus.DRAFT,
        ContractStatus.ACTIVE,
        ContractStatus.EXPIRING,
    },
}


def contract_set_status(
    *, actor: Any, contract: Contract, status: str, expected_version: int, reason: str = ""
) -> Contract:
    """Activate a draft, or terminate a contract early (with a reason)."""
    with transaction.atomic():
        current = _changeable(actor, contract)
        if current.version != expected_version:
            raise ConflictError(contract)
        if current.status not in MOVES.get(status, set()):
            raise RuleViolation(
                {"status": _("A contract cannot move from this status to that one.")}, "status"
            )
        if status == ContractStatus.TERMINATED and not reason.strip():
            raise RuleViolation({"reason": _("Say why the contract ends early.")}, "reason")
        old = current.status
        current.status = status
        current.save_versioned(expected_version=expected_version, update_fields=["status"])
        audit_record(
            actor=actor,
            action="sales.contract.status",
            obj=current,
            changes={"status": [old, status], "reason": reason.strip()[:200]},
        )
    return current


def _successor_period(contract: Contract) -> tuple[date, date]:
    length = contract.ends_on - contract.starts_on
    starts = contract.ends_on + timedelta(days=1)
    return starts, starts + length


def contract_renew(
    *, actor: Any, contract: Contract, expected_version: int, **overrides: Any
) -> Contract:
    """Renew a contract: a new active contract with the same terms for the same length
    (unless ``overrides`` says otherwise); the old one becomes *renewed*."""
    with transaction.atomic():
        current = _changeable(actor, contract)
        if current.version != expected_version:
            raise ConflictError(contract)
        return _renew(actor=actor, current=current, overrides=overrides)


def _renew(*, actor: Any, current: Contract, overrides: Mapping[str, Any]) -> Contract:
    if current.status not in (
        ContractStatus.ACTIVE,
        ContractStatus.EXPIRING,
        ContractStatus.EXPIRED,
    ):
        raise RuleViolation({"status": _("Only a running or expired contract is renewed.")})
    if Contract.all_objects.filter(renewed_from=current).exists():
        raise RuleViolation(_("This contract has already been renewed."), code="renewed")
    starts, ends = _successor_period(current)
    fields = {name: getattr(current, name) for name in (*TEXT_FIELDS, "value", "renewal")}
    fields["remind_days"] = current.remind_days
    fields.update({"starts_on": starts, "ends_on": ends, **overrides})
    successor = contract_create(
        actor=actor,
        customer=current.customer_id,
        owner=current.owner or actor,
        status=ContractStatus.ACTIVE,
        renewed_from=current,
        **fields,
    )
    old = current.status
    current.status = ContractStatus.RENEWED
    current.save_versioned(expected_version=current.version, update_fields=["status"])
    audit_record(
        actor=actor,
        action="sales.contract.renew",
        obj=current,
        changes={"status": [old, ContractStatus.RENEWED], "renewal_contract": [None, successor.pk]},
    )
    return successor


def contract_delete(*, actor: Any, contract: Contract, expected_version: int) -> None:
    delete_in_scope(actor=actor, obj=contract, expected_version=expected_version)


def attachment_add(
    *, actor: Any, contract: Contract, name: str, stream: BinaryIO, size: int | None = None
) -> ContractAttachment:
    """Keep a PDF or image of a contract under a generated name. The type is read from
    the file's first bytes; anything else, or anything over the size limit, is refused."""
    limit = attachment_max_bytes()
    if size is not None and size > limit:
        raise RuleViolation(
            {"file": _("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}},
            "too_large",
        )
    head = stream.read(16)
    kind = next((v for magic, v in ATTACHMENT_TYPES.items() if head.startswith(magic)), None)
    if kind is None:
        raise RuleViolation({"file": _("Attach a PDF, PNG, JPEG or GIF file.")}, "file_type")
    content_type, extension = kind
    errors: dict[str, str] = {}
    original = clean_text(Path(name or "").name, "file", errors, limit=200) or f"file.{extension}"
    raise_if(errors)
    stored = f"{uuid.uuid4().hex}.{extension}"
    path = attachments_dir() / stored
    digest = hashlib.sha256(head)
    written = len(head)
    try:
        with open(path, "xb") as out:
            out.write(head)
            while chunk := stream.read(1024 * 1024):
                written += len(chunk)
                if written > limit:
                    raise RuleViolation(
                        {
                            "file": _("The file is larger than %(mb)d MB.")
                            % {"mb": limit // (1024 * 1024)}
                        },
                        "too_large",
                    )
                digest.update(chunk)
                out.write(chunk)
        with transaction.atomic():
            current = _changeable(actor, contract)
            if current.attachments.count() >= MAX_ATTACHMENTS:
                raise RuleViolation(
                    {"file": _("A contract keeps at most %(n)d files.") % {"n": MAX_ATTACHMENTS}},
                    "too_many",
                )
            attachment = ContractAttachment.objects.create(
                contract=current,
                original_name=original,
                stored_name=stored,
                content_type=content_type,
                size=written,
                sha256=digest.hexdigest(),
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            audit_record(
                actor=actor,
                action="sales.contract.attach",
                obj=current,
                changes={"file": original, "size": written, "sha256": attachment.sha256},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def attachment_remove(*, actor: Any, attachment: ContractAttachment) -> None:
    with transaction.atomic():
        current = _changeable(actor, attachment.contract)
        attachment.delete()
        audit_record(
            actor=actor,
            action="sales.contract.detach",
            obj=current,
            changes={"file": attachment.original_name},
        )
    attachment_path(attachment).unlink(missing_ok=True)


def _owner_zone(contract: Contract) -> zoneinfo.ZoneInfo:
    name = getattr(contract.owner, "time_zone", "") if contract.owner_id else ""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _auto_renew(contract: Contract) -> bool:
    """Renew in the owner's name; False when the owner may no longer do it (the contract
    then simply expires and shows on the expired-not-renewed list)."""
    if contract.owner is None or not contract.owner.is_active:
        return False
    try:
        with transaction.atomic():
            _renew(actor=contract.owner, current=contract, overrides={})
    except (AccessDenied, RuleViolation):
        contract.refresh_from_db()
        return False
    return True


def contract_reminders(*, now: datetime | None = None) -> dict[str, int]:
    """Raise due end-of-contract reminders and move contracts past their end. Idempotent:
    run it as often as you like. Returns how many contracts each step touched."""
    now = now or timezone.now()
    # The earliest time zone is at most 14 hours ahead of UTC: a reminder due "tomorrow"
    # in UTC may be due today somewhere.
    horizon = (now + timedelta(hours=14)).date()
    reminded = expired = renewed = 0
    due = (
        Contract.objects.filter(
            status=ContractStatus.ACTIVE, reminded_at__isnull=True, remind_on__lte=horizon
        )
        .select_related("owner")
        .order_by("remind_on", "id")
    )
    for contract in due.iterator(chunk_size=500):
        if now.astimezone(_owner_zone(contract)).date() < contract.remind_on:
            continue
        with transaction.atomic():
            changed = Contract.objects.filter(
                pk=contract.pk, status=ContractStatus.ACTIVE, reminded_at__isnull=True
            ).update(status=ContractStatus.EXPIRING, reminded_at=now)
            if changed:
                reminded += 1
                audit_record(
                    actor="system",
                    action="sales.contract.reminder",
                    obj=contract,
                    changes={
                        "status": [ContractStatus.ACTIVE, ContractStatus.EXPIRING],
                        "ends_on": contract.ends_on.isoformat(),
                        "owner": contract.owner_id,
                    },
                )
    ended = (
        Contract.objects.filter(
            status__in=(ContractStatus.ACTIVE, ContractStatus.EXPIRING), ends_on__lt=horizon
        )
        .select_related("owner")
        .order_by("ends_on", "id")
    )
    for contract in ended.iterator(chunk_size=500):
        if now.astimezone(_owner_zone(contract)).date() <= contract.ends_on:
            continue
        with transaction.atomic():
            current = Contract.objects.select_for_update().filter(pk=contract.pk).first()
            if current is None or current.status not in (
                ContractStatus.ACTIVE,
                ContractStatus.EXPIRING,
            ):
                continue
            if current.renewal == RenewalType.AUTO and _auto_renew(current):
                renewed += 1
            else:
                old = current.status
                current.status = ContractStatus.EXPIRED
                current.save_versioned(expected_version=current.version, update_fields=["status"])
                audit_record(
                    actor="system",
                    action="sales.contract.expire",
                    obj=current,
                    changes={"status": [old, ContractStatus.EXPIRED]},
                )
                expired += 1
    return {"reminded": reminded, "expired": expired, "renewed": renewed}


def contract_restore(*, actor: Any, pk: int) -> Contract:
    """Bring back a deleted contract (within KEHU_PURGE_AFTER_DAYS)."""
    return restore_in_scope(actor=actor, model=Contract, pk=pk)


def attachment_opened(*, actor: Any, attachment: ContractAttachment) -> None:
    """Record that someone downloaded a contract's file (the caller checked access)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="sales.contract.download",
            obj=attachment.contract,
            changes={"file": attachment.original_name, "sha256": attachment.sha256},
        )

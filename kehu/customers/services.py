"""Writes for the customer file. Keyword-only, one transaction, scoped, audited.

Every field change is also kept in CustomerChange (who, when, old → new), shown on the
customer's file: customer data changes, and nothing is silently lost (动态管理).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm, scoped
from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.customers import search_keys
from kehu.customers.choices import Channel, Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.models import Customer, CustomerChange, Interaction, Tag

EDITABLE = (
    "kind",
    "name",
    "company",
    "credit_code",
    "industry",
    "size",
    "mobile",
    "phone",
    "email",
    "wechat",
    "province",
    "city",
    "district",
    "street",
    "address_text",
    "birthday",
    "gender",
    "source",
    "referrer",
    "notes",
    "stage",
    "tier",
    "tier_reason",
)
CHOICES = {
    "kind": Kind,
    "size": Size,
    "gender": Gender,
    "source": Source,
    "stage": Stage,
    "tier": Tier,
}
MAX_LENGTHS = {
    f.name: f.max_length for f in Customer._meta.fields if getattr(f, "max_length", None)
}
CREDIT_CODE_CHARS = set("0123456789ABCDEFGHJKLMNPQRTUWXY")


def _require(actor: Any, perm: str) -> None:
    if not has_perm(actor, perm):
        raise AccessDenied(perm)


def normalise_phone(raw: str, *, field: str, errors: dict[str, str]) -> str:
    """Return E.164 (+8613812345678) for a valid number, or record an error."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, settings.KEHU_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        errors[field] = _("Enter a valid phone number, e.g. 138 1234 5678 or +852 9123 4567.")
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise customer fields; ValidationError names every bad field."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()
            limit = MAX_LENGTHS.get(name)
            if limit and len(value) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
        if name in CHOICES and value not in CHOICES[name].values:
            errors[name] = _("Not one of the choices.")
        clean[name] = value
    if "name" in clean and not clean["name"]:
        errors["name"] = _("A customer needs a name.")
    for name in ("mobile", "phone"):
        if name in clean:
            clean[name] = normalise_phone(clean[name], field=name, errors=errors)
    if clean.get("email"):
        clean["email"] = clean["email"].lower()
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors["email"] = _("Enter a valid email address.")
    code = (clean.get("credit_code") or "").upper()
    if "credit_code" in clean:
        clean["credit_code"] = code
        if code and (len(code) != 18 or not set(code) <= CREDIT_CODE_CHARS):
            errors["credit_code"] = _("A unified social credit code has 18 characters.")
    birthday = clean.get("birthday")
    if birthday is not None and (not isinstance(birthday, date) or birthday > timezone.localdate()):
        errors["birthday"] = _("Enter a date that is not in the future.")
    if errors:
        raise ValidationError(errors)
    return clean


def compute_search_keys(customer: Customer) -> None:
    customer.mobile_digits = search_keys.digits(customer.mobile)[-11:] if customer.mobile else ""
    customer.email_lower = (customer.email or "").lower()
    customer.name_pinyin = search_keys.pinyin_full(customer.name)
    customer.name_initials = search_keys.pinyin_initials(customer.name)
    company_pinyin = search_keys.pinyin_full(customer.company)
    customer.search_text = search_keys.search_text(
        [
            customer.name,
            customer.company,
            customer.name_pinyin,
            customer.name_initials,
            company_pinyin,
            search_keys.pinyin_initials(customer.company),
            search_keys.digits(customer.mobile),
            search_keys.digits(customer.phone),
            customer.email_lower,
            customer.wechat,
            customer.city,
        ]
    )


SEARCH_KEY_FIELDS = ["mobile_digits", "email_lower", "name_pinyin", "name_initials", "search_text"]


def _record_changes(*, actor: Any, customer: Customer, changes: dict[str, list[Any]]) -> None:
    now = timezone.now()
    CustomerChange.objects.bulk_create(
        CustomerChange(
            customer=customer,
            changed_at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            field=name,
            old_value="" if old is None else str(old),
            new_value="" if new is None else str(new),
        )
        for name, (old, new) in changes.items()
    )


def _snapshot(customer: Customer, names: Iterable[str]) -> dict[str, Any]:
    return {
        n: getattr(customer, n + "_id") if n == "referrer" else getattr(customer, n) for n in names
    }


def customer_create(
    *, actor: Any, tags: Iterable[str] = (), owner: Any = "actor", **fields: Any
) -> Customer:
    """Create a customer owned by ``actor`` (or ``owner``; None puts it in the pool)."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    clean = clean_fields(fields)
    owner = actor if owner == "actor" else owner
    if owner is not None and owner.pk != actor.pk:
        _require(actor, Perm.TRANSFER_CUSTOMERS)
    customer = Customer(**clean)
    customer.owner = owner
    customer.team_id = owner.team_id if owner else None
    customer.department_id = owner.department_id if owner else None
    customer.pooled_at = None if owner else timezone.now()
    customer.assigned_at = timezone.now() if owner else None
    customer.verified_at = timezone.now()
    compute_search_keys(customer)
    with transaction.atomic():
        customer.save()
        _set_tags(customer, tags)
        after = _snapshot(customer, clean)
        changes = diff({}, after)
        _record_changes(actor=actor, customer=customer, changes=changes)
        audit_record(actor=actor, action="customer.create", obj=customer, changes=changes)
    return customer


def _set_tags(customer: Customer, names: Iterable[str]) -> list[str]:
    wanted: list[str] = []
    for name in names:
        name = (name or "").strip()[:50]
        if name and name.lower() not in {w.lower() for w in wanted}:
            wanted.append(name)
    tags = []
    for name in wanted:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    customer.tags.set(tags)
    return sorted(t.name for t in tags)


def customer_update(
    *,
    actor: Any,
    customer: Customer,
    expected_version: int,
    tags: Iterable[str] | None = None,
    **fields: Any,
) -> Customer:
    """Change a customer the actor may edit; a stale version conflicts; every change kept."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    clean = clean_fields(fields)
    before = _snapshot(customer, clean)
    changes = diff(before, {n: (v.pk if n == "referrer" and v else v) for n, v in clean.items()})
    old_tags = sorted(customer.tags.values_list("name", flat=True))
    with transaction.atomic():
        current = Customer.objects.filter(pk=customer.pk, version=expected_version)
        if not current.exists():
            raise ConflictError(customer)
        for name, value in clean.items():
            setattr(customer, name, value)
        compute_search_keys(customer)
        if tags is not None:
            new_tags = _set_tags(customer, tags)
            if new_tags != old_tags:
                changes["tags"] = [", ".join(old_tags), ", ".join(new_tags)]
        if not changes:
            return customer
        values = {n: getattr(customer, n) for n in clean}
        values.update({n: getattr(customer, n) for n in SEARCH_KEY_FIELDS})
        values["updated_at"] = timezone.now()
        if current.update(version=F("version") + 1, **values) != 1:
            raise ConflictError(customer)
        customer.version = expected_version + 1
        _record_changes(actor=actor, customer=customer, changes=changes)
        audit_record(actor=actor, action="customer.update", obj=customer, changes=changes)
    return customer


def customer_mark_verified(*, actor: Any, customer: Customer) -> Customer:
    """The owner confirms the file is current; clears the 'stale' flag."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    now = timezone.now()
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(verified_at=now)
        customer.verified_at = now
        audit_record(actor=actor, action="customer.verify", obj=customer)
    return customer


# --- The public pool (公海) and hand-over -------------------------------------------------


def customer_claim(*, actor: Any, customer_id: int) -> Customer:
    """Take a customer from the pool. Race-safe: of two people claiming at once, one wins;
    the other gets RuleViolation. A person owns at most KEHU_POOL_CLAIM_LIMIT customers."""
    _require(actor, Perm.CLAIM_CUSTOMERS)
    from django.contrib.auth import get_user_model

    with transaction.atomic():
        # Serialise one person's own claims, so the limit holds under double clicks.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        if not Customer.objects.filter(pk=customer_id).exists():
            raise Customer.DoesNotExist
        owned = Customer.objects.filter(owner=actor).count()
        if owned >= settings.KEHU_POOL_CLAIM_LIMIT:
            raise RuleViolation(
                _("You already own %(n)d customers, the most one person may hold.") % {"n": owned},
                code="rule",
            )
        won = Customer.objects.filter(pk=customer_id, owner__isnull=True).update(
            owner=actor,
            team=actor.team_id,
            department=actor.department_id,
            pooled_at=None,
            last_contact_at=timezone.now(),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if won != 1:
            raise RuleViolation(_("Someone else claimed this customer first."), code="taken")
        customer = Customer.objects.get(pk=customer_id)
        changes = {"owner": [None, actor.pk]}
        _record_changes(actor=actor, customer=customer, changes=changes)
        audit_record(actor=actor, action="customer.claim", obj=customer, changes=changes)
    return customer


def customer_release(*, actor: Any, customer: Customer, reason: str) -> Customer:
    """Put one of the actor's customers back into the pool, with a reason."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationError({"reason": _("Say why the customer goes back to the pool.")})
    _require(actor, Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    if customer.owner_id not in (None, actor.pk):
        # Only the owner lets a customer go; others need the right to hand customers over.
        _require(actor, Perm.TRANSFER_CUSTOMERS)
    moved = _to_pool(actor=actor, customers=Customer.objects.filter(pk=customer.pk), reason=reason)
    if not moved:
        raise RuleViolation(_("This customer is already in the public pool."), code="rule")
    return moved[0]


def _to_pool(*, actor: Any, customers: QuerySet[Customer], reason: str) -> list[Customer]:
    moved = []
    now = timezone.now()
    with transaction.atomic():
        for customer in customers.select_for_update().filter(owner__isnull=False):
            changes = {"owner": [customer.owner_id, None]}
            # In the pool a customer belongs to no one: no team, no department either.
            Customer.objects.filter(pk=customer.pk).update(
                owner=None,
                team=None,
                department=None,
                pooled_at=now,
                version=F("version") + 1,
                updated_at=now,
            )
            customer.owner_id, customer.team_id, customer.department_id = None, None, None
            customer.pooled_at = now
            _record_changes(actor=actor, customer=customer, changes=changes)
            audit_record(
                actor=actor,
                action="customer.release",
                obj=customer,
                changes={**changes, "reason": [None, reason]},
            )
            moved.append(customer)
    return moved


def customer_transfer(
    *, actor: Any, customers: QuerySet[Customer], to_user: Any, reason: str
) -> int:
    """Hand customers over to another owner (one, a filtered set, or all of a leaver's)."""
    _require(actor, Perm.TRANSFER_CUSTOMERS)
    reason = (reason or "").strip()[:200]
    if not reason:
        raise ValidationError({"reason": _("Say why the customers change hands.")})
    if to_user is None or not to_user.is_active:
        raise ValidationError({"to_user": _("Choose an active colleague.")})
    visible = scoped(actor, Perm.TRANSFER_CUSTOMERS, customers)
    now = timezone.now()
    with transaction.atomic():
        ids_and_owners = list(visible.select_for_update().values_list("pk", "owner_id"))
        ids = [pk for pk, owner_id in ids_and_owners if owner_id != to_user.pk]
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            Customer.objects.filter(pk__in=chunk).update(
                owner=to_user,
                team=to_user.team_id,
                department=to_user.department_id,
                pooled_at=None,
                version=F("version") + 1,
                updated_at=now,
            )
        owners = dict(ids_and_owners)
        CustomerChange.objects.bulk_create(
            [
                CustomerChange(
                    customer_id=pk,
                    changed_at=now,
                    actor=actor,
                    field="owner",
                    old_value=str(owners[pk] or ""),
                    new_value=str(to_user.pk),
                )
                for pk in ids
            ],
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            action="customer.transfer",
            object_type="customers.customer",
            object_label=f"→ {to_user.get_username()}",
            row_count=len(ids),
            changes={
                "owner": [None, to_user.pk],
                "reason": [None, reason],
                "ids": [None, ids[:100]],
            },
        )
    return len(ids)


def customers_return_idle(*, now: Any = None) -> int:
    """Return to the pool every owned customer without follow-up for KEHU_POOL_RETURN_DAYS
    (counted from the last contact or from when the owner took it, whichever is later)."""
    from kehu.customers.selectors import idle_since

    now = now or timezone.now()
    days = settings.KEHU_POOL_RETURN_DAYS
    if days <= 0:
        return 0
    idle = (
        Customer.objects.filter(owner__isnull=False)
        .alias(idle_since=idle_since())
        .filter(idle_since__lt=now - timedelta(days=days))
    )
    reason = _("No follow-up for %(days)d days.") % {"days": days}
    moved = 0
    for _batch_no in range(2_000):  # batches of 500, each its own transaction
        batch = list(idle.values_list("pk", flat=True)[:500])
        if not batch:
            break
        moved += len(
            _to_pool(actor="system", customers=Customer.objects.filter(pk__in=batch), reason=reason)
        )
    return moved


def interaction_record(
    *,
    actor: Any,
    customer: Customer,
    channel: str,
    summary: str,
    happened_at: Any = None,
    outcome: str = "",
    next_step: str = "",
    next_step_due: date | None = None,
) -> Interaction:
    """Add to the customer's timeline; the contact counts as follow-up (last contact)."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    errors: dict[str, str] = {}
    now = timezone.now()
    happened_at = happened_at or now
    summary = (summary or "").strip()
    if channel not in Channel.values:
        errors["channel"] = _("Not one of the choices.")
    if not summary:
        errors["summary"] = _("Say what happened.")
    elif len(summary) > 10_000:
        errors["summary"] = _("At most %(n)d characters.") % {"n": 10_000}
    for name, value in (("outcome", outcome), ("next_step", next_step)):
        if len(value or "") > 200:
            errors[name] = _("At most %(n)d characters.") % {"n": 200}
    if happened_at > now + timedelta(minutes=5):
        errors["happened_at"] = _("An interaction cannot lie in the future.")
    if next_step_due and not (next_step or "").strip():
        errors["next_step"] = _("Say what the next step is.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        interaction = Interaction.objects.create(
            customer=customer,
            channel=channel,
            happened_at=happened_at,
            summary=summary,
            outcome=(outcome or "").strip(),
            next_step=(next_step or "").strip(),
            next_step_due=next_step_due,
            author=actor,
        )
        Customer.objects.filter(pk=customer.pk).filter(
            models.Q(last_contact_at__isnull=True) | models.Q(last_contact_at__lt=happened_at)
        ).update(last_contact_at=happened_at)
        audit_record(
            actor=actor,
            action="customer.interaction",
            obj=customer,
            changes={"channel": [None, channel], "next_step": [None, interaction.next_step]},
        )
    return interaction


def followup_done(*, actor: Any, interaction: Interaction) -> Interaction:
    """Tick off a next step."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Interaction).filter(pk=interaction.pk).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    with transaction.atomic():
        Interaction.objects.filter(pk=interaction.pk).update(next_step_done=True)
        interaction.next_step_done = True
        audit_record(
            actor=actor,
            action="customer.followup_done",
            obj=interaction.customer,
            changes={"next_step": [interaction.next_step, None]},
        )
    return interaction

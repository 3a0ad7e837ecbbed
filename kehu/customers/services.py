"""Writes for the customer file. Keyword-only, one transaction, scoped, audited.

Every field change is also kept in CustomerChange (who, when, old → new), shown on the
customer's file: customer data changes, and nothing is silently lost (动态管理).
"""

from __future__ import annotations

import re
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
from kehu.customers import custom_fields, masking, search_keys
from kehu.customers.choices import Channel, Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.models import Contact, Customer, CustomerChange, Interaction, Tag

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
    "id_number",
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
# Enum .values builds a new list on every access; the choices are fixed, so once.
CHOICE_VALUES = {name: tuple(enum.values) for name, enum in CHOICES.items()}
MAX_LENGTHS = {
    f.name: f.max_length for f in Customer._meta.fields if getattr(f, "max_length", None)
}
CREDIT_CODE_CHARS = set("0123456789ABCDEFGHJKLMNPQRTUWXY")


def _require(actor: Any, perm: str) -> None:
    if not has_perm(actor, perm):
        raise AccessDenied(perm)


# A Chinese mobile number written plainly (13812345678, 138 1234 5678, 138-1234-5678,
# +86 138 1234 5678 …): its E.164 form is +86 and the 11 digits, and whether libphonenumber
# calls it valid depends on its first 7 digits only (CN metadata: every pattern an 11-digit
# 1[3-9]… number can match, the mobile one, constrains at most 7 leading digits; 179… is
# left out as it is also a carrier-code prefix for parsing). So the verdict is computed
# once per 7-digit prefix, by _cn_national_valid; tests/customers/test_import_speed.py
# compares the two on random samples over every prefix.
_CN_MOBILE = re.compile(r"(?:\+86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})")
_cn_mobile_valid: dict[str, bool] = {}
# The number types phonenumbers' _number_type_helper tries after the general pattern, in
# its order (mobile last, and only when its pattern differs from the fixed-line one).
_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
                 "pager", "uan", "voicemail", "fixed_line", "mobile")  # fmt: skip
_cn_patterns: list[Any] = []


def _cn_desc_patterns() -> list[Any]:
    """[(possible lengths, compiled pattern) of the general description, then of every
    number type], from phonenumbers' CN metadata (None: a description without pattern)."""
    if not _cn_patterns:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
        assert metadata is not None  # shipped with phonenumbers
        names = ["general_desc", *_NUMBER_TYPES]
        if metadata.same_mobile_and_fixed_line_pattern:
            names.remove("mobile")
        for name in names:
            desc = getattr(metadata, name)
            if desc is None or not desc.national_number_pattern:
                _cn_patterns.append(None)
            else:
                lengths = frozenset(desc.possible_length)
                _cn_patterns.append((lengths, re.compile(desc.national_number_pattern)))
    return _cn_patterns


def _cn_national_valid(national: str) -> bool:
    """``phonenumbers.is_valid_number`` of +86 ``national`` (digits, no leading zero)
    without building and walking a PhoneNumber: the number matches the general pattern of
    the CN metadata and the pattern of one number type, each where its possible lengths
    allow (phonenumbers' _number_type_helper and _is_number_matching_desc, same order)."""
    general, *types = _cn_desc_patterns()

    def matches(desc: Any) -> bool:
        if desc is None:
            return False
        lengths, pattern = desc
        if lengths and len(national) not in lengths:
            return False
        return pattern.fullmatch(national) is not None

    return matches(general) and any(matches(desc) for desc in types)


def _cn_mobile_e164(raw: str) -> str | None:
    """E.164 of a plainly written Chinese mobile number (see _CN_MOBILE), "" when it is
    one but invalid, None when the text is not of that shape (ask phonenumbers)."""
    match = _CN_MOBILE.fullmatch(raw)
    if match is None or match[1] == "179":
        return None
    if not raw.startswith("+") and settings.KEHU_PHONE_REGION != "CN":
        return None
    national = match[1] + match[2] + match[3]
    prefix = national[:7]
    valid = _cn_mobile_valid.get(prefix)
    if valid is None:  # what parse("+86…") and is_valid_number give, without them
        valid = _cn_mobile_valid[prefix] = _cn_national_valid(national)
    return "+86" + national if valid else ""


def normalise_phone(raw: str, *, field: str, errors: dict[str, str]) -> str:
    """Return E.164 (+8613812345678) for a valid number, or record an error."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    fast = _cn_mobile_e164(raw)
    if fast:
        return fast
    if fast == "":
        errors[field] = _("Enter a valid phone number, e.g. 138 1234 5678 or +852 9123 4567.")
        return raw
    try:
        number = phonenumbers.parse(raw, settings.KEHU_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        errors[field] = _("Enter a valid phone number, e.g. 138 1234 5678 or +852 9123 4567.")
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"


def resident_id_error(value: str) -> str:
    """An 18-character PRC resident ID (17 digits and a check digit or X) must have the
    right check digit and a real birth date; any other ID is free-form (passport, HK ID…)."""
    if len(value) != 18 or not value[:17].isdigit() or value[17] not in "0123456789X":
        return ""
    digits = value[:17]
    total = sum(int(d) * w for d, w in zip(digits, RESIDENT_ID_WEIGHTS, strict=True))
    if RESIDENT_ID_CHECK[total % 11] != value[17]:
        return _("This resident ID number is not valid: its check digit is wrong.")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return _("This resident ID number is not valid: its birth date does not exist.")
    return ""


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise customer fields; ValidationError names every bad field."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown customer fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            if value.isprintable():  # the common case: nothing to drop
                value = value.strip()
            else:
                value = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()
            limit = MAX_LENGTHS.get(name)
            if limit and len(value) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
        if name in CHOICE_VALUES and value not in CHOICE_VALUES[name]:
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
    if clean.get("id_number"):
        clean["id_number"] = clean["id_number"].upper()
        id_error = resident_id_error(clean["id_number"])
        if id_error:
            errors["id_number"] = id_error
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


def search_key_values(
    *,
    name: str,
    company: str,
    mobile: str,
    phone: str,
    email: str,
    wechat: str,
    city: str,
    tags: Iterable[str] = (),
) -> tuple[str, str, str, str, str]:
    """The search keys of a customer with these fields and tags, in SEARCH_KEY_FIELDS
    order (mobile_digits, email_lower, name_pinyin, name_initials, search_text).

    Tag names are words of search_text like the rest (lower-cased, in name order), so a
    tag is found by the same substring search and index as a name: no join per row."""
    mobile_digits = search_keys.digits(mobile)[-11:] if mobile else ""
    email_lower = (email or "").lower()
    name_pinyin = search_keys.pinyin_full(name)
    name_initials = search_keys.pinyin_initials(name)
    text = search_keys.search_text(
        [
            name,
            company,
            name_pinyin,
            name_initials,
            search_keys.pinyin_full(company),
            search_keys.pinyin_initials(company),
            search_keys.digits(mobile),
            search_keys.digits(phone),
            email_lower,
            wechat,
            city,
            *sorted({t.strip().lower() for t in tags if t and t.strip()}),
        ]
    )
    return mobile_digits, email_lower, name_pinyin, name_initials, text


def compute_search_keys(customer: Customer, tags: Iterable[str] | None = None) -> None:
    """Set the customer's search keys. ``tags``: its tag names; None reads the tags it
    has in the database (none for a customer not saved yet)."""
    if tags is None:
        tags = list(customer.tags.values_list("name", flat=True)) if customer.pk else []
    (
        customer.mobile_digits,
        customer.email_lower,
        customer.name_pinyin,
        customer.name_initials,
        customer.search_text,
    ) = search_key_values(
        name=customer.name,
        company=customer.company,
        mobile=customer.mobile,
        phone=customer.phone,
        email=customer.email,
        wechat=customer.wechat,
        city=customer.city,
        tags=tags,
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


def _clean_with_custom(
    fields: dict[str, Any], custom: dict[str, Any] | None, *, partial: bool, current: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The customer's fields and custom values checked together: one ValidationError
    names every bad field, custom ones as ``custom.<key>``."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    custom_clean: dict[str, Any] = {}
    try:
        clean = clean_fields(fields)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if custom is not None or not partial:
        try:
            custom_clean = custom_fields.clean_custom_values(
                custom or {}, partial=partial, current=current
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return clean, custom_clean


def _snapshot(customer: Customer, names: Iterable[str]) -> dict[str, Any]:
    return {
        n: getattr(customer, n + "_id") if n == "referrer" else getattr(customer, n) for n in names
    }


def customer_create(
    *,
    actor: Any,
    tags: Iterable[str] = (),
    owner: Any = "actor",
    custom: dict[str, Any] | None = None,
    **fields: Any,
) -> Customer:
    """Create a customer owned by ``actor`` (or ``owner``; None puts it in the pool).
    ``custom``: values of the custom fields by key (required ones must be there)."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    clean, custom_clean = _clean_with_custom(fields, custom, partial=False, current=None)
    owner = actor if owner == "actor" else owner
    if owner is not None and owner.pk != actor.pk:
        _require(actor, Perm.TRANSFER_CUSTOMERS)
    customer = Customer(**clean)
    customer.custom = custom_fields.merge_custom({}, custom_clean)
    customer.owner = owner
    customer.team_id = owner.team_id if owner else None
    customer.department_id = owner.department_id if owner else None
    customer.pooled_at = None if owner else timezone.now()
    customer.assigned_at = timezone.now() if owner else None
    customer.verified_at = timezone.now()
    tag_names = _tag_names(tags)
    compute_search_keys(customer, tags=tag_names)
    with transaction.atomic():
        customer.save()
        _set_tags(customer, tag_names)
        after = _snapshot(customer, clean)
        changes = diff({}, after)
        changes.update(custom_fields.custom_changes({}, customer.custom))
        _record_changes(actor=actor, customer=customer, changes=changes)
        audit_record(actor=actor, action="customer.create", obj=customer, changes=changes)
    return customer


def _tag_names(names: Iterable[str]) -> list[str]:
    """Tag names as kept: trimmed, at most 50 characters, each once in any case."""
    wanted: list[str] = []
    for name in names:
        name = (name or "").strip()[:50]
        if name and name.lower() not in {w.lower() for w in wanted}:
            wanted.append(name)
    return wanted


def _set_tags(customer: Customer, names: Iterable[str]) -> list[str]:
    tags = []
    for name in _tag_names(names):
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
    custom: dict[str, Any] | None = None,
    **fields: Any,
) -> Customer:
    """Change a customer the actor may edit; a stale version conflicts; every change kept.
    ``custom``: custom values to set by key (``None`` or "" clears one; others stay).
    Masked fields (mobile, ID number, addresses …) sent back in their masked form are left
    unchanged; only a reader who may reveal them may change them."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    if not scoped(actor, Perm.CHANGE_CUSTOMERS, Customer).filter(pk=customer.pk).exists():
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    fields = masking.without_masked_echoes(customer, fields)
    clean, custom_clean = _clean_with_custom(
        fields, custom, partial=True, current=customer.custom or {}
    )
    masking.check_masked_changes(actor, customer, clean)
    before = _snapshot(customer, clean)
    changes = diff(before, {n: (v.pk if n == "referrer" and v else v) for n, v in clean.items()})
    old_tags = sorted(customer.tags.values_list("name", flat=True))
    with transaction.atomic():
        current = Customer.objects.filter(pk=customer.pk, version=expected_version)
        if not current.exists():
            raise ConflictError(customer)
        for name, value in clean.items():
            setattr(customer, name, value)
        new_tags = old_tags
        if tags is not None:
            new_tags = _set_tags(customer, tags)
            if new_tags != old_tags:
                changes["tags"] = [", ".join(old_tags), ", ".join(new_tags)]
        compute_search_keys(customer, tags=new_tags)
        if custom is not None:
            new_custom = custom_fields.merge_custom(customer.custom or {}, custom_clean)
            custom_delta = custom_fields.custom_changes(customer.custom or {}, new_custom)
            if custom_delta:
                changes.update(custom_delta)
                customer.custom = new_custom
        if not changes:
            return customer
        values = {n: getattr(customer, n) for n in clean}
        if custom is not None:
            values["custom"] = customer.custom
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


# --- Contacts of a customer (an organisation's people and their roles) ---------------------

CONTACT_FIELDS = ("name", "role", "mobile", "email", "wechat", "is_primary")
CONTACT_MAX_LENGTHS = {
    f.name: f.max_length for f in Contact._meta.fields if getattr(f, "max_length", None)
}


def clean_contact_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise contact fields; ValidationError names every bad field."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown contact fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "is_primary":
            if not isinstance(value, bool):
                errors[name] = _("Not one of the choices.")
            clean[name] = bool(value)
            continue
        value = "".join(ch for ch in str(value or "") if ch.isprintable()).strip()
        limit = CONTACT_MAX_LENGTHS.get(name)
        if limit and len(value) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
        clean[name] = value
    if "name" in clean and not clean["name"]:
        errors["name"] = _("A contact needs a name.")
    if "mobile" in clean:
        clean["mobile"] = normalise_phone(clean["mobile"], field="mobile", errors=errors)
    if clean.get("email"):
        clean["email"] = clean["email"].lower()
        try:
            validate_email(clean["email"])
        except ValidationError:
            errors["email"] = _("Enter a valid email address.")
    if errors:
        raise ValidationError(errors)
    return clean


def _lock_changeable_customer(actor: Any, customer_id: int) -> Customer:
    """The customer, locked for this transaction, if the actor may change it (else
    AccessDenied): contact writes of one customer queue, so it keeps one primary contact."""
    _require(actor, Perm.CHANGE_CUSTOMERS)
    customer = (
        scoped(actor, Perm.CHANGE_CUSTOMERS, Customer)
        .select_for_update()
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise AccessDenied(Perm.CHANGE_CUSTOMERS)
    return customer


def _demote_other_primaries(*, customer_id: int, keep_id: int | None) -> list[int]:
    others = Contact.objects.filter(customer_id=customer_id, is_primary=True)
    if keep_id is not None:
        others = others.exclude(pk=keep_id)
    ids = list(others.values_list("pk", flat=True))
    if ids:
        Contact.objects.filter(pk__in=ids).update(
            is_primary=False, version=F("version") + 1, updated_at=timezone.now()
        )
    return ids


def contact_create(*, actor: Any, customer: Customer, **fields: Any) -> Contact:
    """Add a contact to a customer the actor may change. A new primary contact replaces
    the previous one (a customer has at most one)."""
    clean = clean_contact_fields(fields)
    if not clean.get("name"):
        raise ValidationError({"name": _("A contact needs a name.")})
    with transaction.atomic():
        _lock_changeable_customer(actor, customer.pk)
        contact = Contact(customer=customer, **clean)
        contact.save()
        changes = diff({}, {n: getattr(contact, n) for n in CONTACT_FIELDS})
        changes["customer"] = [None, customer.pk]
        if contact.is_primary:
            demoted = _demote_other_primaries(customer_id=customer.pk, keep_id=contact.pk)
            if demoted:
                changes["primary_before"] = [demoted, None]
        audit_record(actor=actor, action="customers.contact.create", obj=contact, changes=changes)
    return contact


def contact_update(
    *, actor: Any, contact: Contact, expected_version: int, **fields: Any
) -> Contact:
    """Change a contact; a stale ``expected_version`` conflicts (nothing is overwritten)."""
    clean = clean_contact_fields(fields)
    with transaction.atomic():
        _lock_changeable_customer(actor, contact.customer_id)
        current = Contact.objects.filter(pk=contact.pk).first()
        if current is None:
            raise AccessDenied(Perm.CHANGE_CUSTOMERS)
        if current.version != expected_version:
            raise ConflictError(contact)
        changes = diff(
            {n: getattr(current, n) for n in clean}, {n: value for n, value in clean.items()}
        )
        if not changes:
            return current
        for name, value in clean.items():
            setattr(current, name, value)
        current.save_versioned(expected_version=expected_version, update_fields=list(clean))
        if current.is_primary and "is_primary" in changes:
            demoted = _demote_other_primaries(customer_id=current.customer_id, keep_id=current.pk)
            if demoted:
                changes["primary_before"] = [demoted, None]
        audit_record(actor=actor, action="customers.contact.update", obj=current, changes=changes)
    for name in (*clean, "version", "updated_at"):
        setattr(contact, name, getattr(current, name))
    return contact


def contact_delete(*, actor: Any, contact: Contact, expected_version: int) -> None:
    """Soft-delete a contact (restorable); a stale ``expected_version`` conflicts."""
    from kehu.core.services import record_soft_delete

    with transaction.atomic():
        _lock_changeable_customer(actor, contact.customer_id)
        if not Contact.objects.filter(pk=contact.pk).exists():
            raise AccessDenied(Perm.CHANGE_CUSTOMERS)
        record_soft_delete(actor=actor, obj=contact, expected_version=expected_version)


def contact_reveal(*, actor: Any, contact: Contact) -> dict[str, str]:
    """The contact's masked fields in the clear, for a reader allowed to reveal them;
    every reveal is an audited action (custody, 借阅)."""
    from kehu.customers.masking import can_reveal, masked_values

    if not can_reveal(actor):
        raise AccessDenied(Perm.REVEAL_CUSTOMER_PII)
    if not scoped(actor, Perm.VIEW_CUSTOMERS, Contact).filter(pk=contact.pk).exists():
        raise AccessDenied(Perm.VIEW_CUSTOMERS)
    values = masked_values(contact, revealed=True)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="customers.contact.reveal",
            obj=contact,
            changes={"fields": [None, sorted(name for name, value in values.items() if value)]},
        )
    return values


# --- Merge and restore (kehu.customers.merging; re-exported here, the app's public face) --


def customers_merge(
    *,
    actor: Any,
    target: Customer,
    others: Iterable[Customer],
    reason: str,
    versions: dict[int, int] | None = None,
    choices: dict[str, int] | None = None,
) -> Customer:
    """Merge duplicate customers into ``target``; see kehu.customers.merging."""
    from kehu.customers import merging

    return merging.customers_merge(
        actor=actor, target=target, others=others, reason=reason, versions=versions, choices=choices
    )


def customer_restore(*, actor: Any, customer_id: int) -> Customer:
    """Bring back a deleted customer with its rows; see kehu.customers.merging."""
    from kehu.customers import merging

    return merging.customer_restore(actor=actor, customer_id=customer_id)

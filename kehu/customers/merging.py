"""Merging duplicate customers into one, and restoring deleted ones.

**Rows that follow a customer.** Other apps hold rows that belong to a customer (needs,
later orders, tickets …). The customer file may not import them (apps import only apps
below them), so each app *registers* its rows here, by label::

    from kehu.customers.merging import follows_customer
    follows_customer("needs.Need", "customer")

On a merge the registered rows of the merged records move to the surviving one; on a
restore, the registered soft-deletable rows that were deleted together with the customer
come back with it. ``tests/customers/test_merge.py`` fails when a foreign key to
``Customer`` is neither registered nor listed as deliberately staying put, so a new app
cannot forget.

The services themselves are re-exported by ``kehu.customers.services``
(``customers_merge``, ``customer_restore``): that module is the app's public face.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm, scoped
from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation, SoftDeleteModel
from kehu.core.permissions import Perm
from kehu.core.services import record_restore
from kehu.customers.models import Customer, CustomerChange
from kehu.customers.services import (
    EDITABLE,
    SEARCH_KEY_FIELDS,
    _record_changes,
    _snapshot,
    compute_search_keys,
)

# --- The registry of rows that follow a customer -----------------------------------------


@dataclass(frozen=True)
class Follower:
    """``model`` ("app_label.ModelName") holds rows tied to a customer by ``field``."""

    model: str
    field: str = "customer"


FOLLOWERS: list[Follower] = []


def follows_customer(model: str, field: str = "customer") -> None:
    """Register rows that move with a merge and come back with a restore (idempotent)."""
    follower = Follower(model, field)
    if follower not in FOLLOWERS:
        FOLLOWERS.append(follower)


follows_customer("customers.Contact")
follows_customer("customers.Interaction")
follows_customer("customers.CustomerChange")


def follower_models() -> list[tuple[type[models.Model], str]]:
    """The registered (model, foreign key field) pairs of installed apps."""
    pairs = []
    for follower in FOLLOWERS:
        try:
            model = apps.get_model(follower.model)
        except LookupError:
            continue
        pairs.append((model, follower.field))
    return pairs


# Foreign keys to Customer that deliberately do not follow: the customer's own links.
STAYS_PUT = {("customers.customer", "referrer"), ("customers.customer", "merged_into")}

# --- Merge ---------------------------------------------------------------------------------

# The fields a merge may take from any of the records (the referrer is one of them).
MERGE_FIELDS: tuple[str, ...] = (*EDITABLE, "id_number")
MAX_MERGE = 20
BLANK = (None, "")


def _reason(reason: str) -> str:
    reason = "".join(ch for ch in (reason or "") if ch.isprintable()).strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these customers are merged.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("At most %(n)d characters.") % {"n": 200}})
    return reason


def _value(customer: Customer, name: str) -> Any:
    return customer.referrer_id if name == "referrer" else getattr(customer, name)


def merged_values(
    survivor: Customer, merged: Sequence[Customer], choices: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The surviving record's fields after the merge.

    A field named in ``choices`` takes the value of the record with that id. Otherwise the
    survivor keeps its own value and an empty one is filled from the first merged record
    that has it. Notes are combined (nothing typed by hand is dropped) unless chosen."""
    by_id = {c.pk: c for c in (survivor, *merged)}
    values: dict[str, Any] = {}
    for name in MERGE_FIELDS:
        if choices and name in choices:
            values[name] = _value(by_id[choices[name]], name)
            continue
        if name == "notes":
            parts = []
            for customer in (survivor, *merged):
                text = (customer.notes or "").strip()
                if text and text not in parts:
                    parts.append(text)
            values[name] = "\n\n".join(parts)
            continue
        value = _value(survivor, name)
        if value in BLANK:
            for other in merged:
                if _value(other, name) not in BLANK:
                    value = _value(other, name)
                    break
        values[name] = value
    # A record cannot be referred by itself, nor by a record merged into it.
    if values.get("referrer") in by_id:
        values["referrer"] = None
    return values


def _check_choices(choices: Mapping[str, int] | None, ids: Sequence[int]) -> dict[str, int]:
    errors = {}
    clean: dict[str, int] = {}
    for name, source in (choices or {}).items():
        if name not in MERGE_FIELDS:
            errors[name] = _("This field cannot be chosen in a merge.")
        elif source not in ids:
            errors[name] = _("Choose one of the customers being merged.")
        else:
            clean[name] = source
    if errors:
        raise ValidationError(errors)
    return clean


def _ids(others: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for other in others:
        pk = other.pk if isinstance(other, Customer) else int(other)
        if pk not in ids:
            ids.append(pk)
    return ids


def customers_merge(
    *,
    actor: Any,
    target: Customer,
    others: Iterable[Customer],
    reason: str,
    versions: Mapping[int, int] | None = None,
    choices: Mapping[str, int] | None = None,
) -> Customer:
    """Merge ``others`` into ``target``; return the surviving customer.

    Everything tied to the merged records moves to the survivor: interactions, contacts,
    change history, needs and whatever other apps registered (``follows_customer``);
    customers they referred; their tags (union). Empty fields of the survivor are filled
    from them (or each field taken from the record ``choices`` names). The merged records
    are soft-deleted with ``merged_into`` set, so their old ids lead to the survivor.

    All records must be visible to the actor under ``customers.merge`` (else AccessDenied,
    and nothing changes). The rows are locked; a record changed since the caller read it
    (``versions``: id → version, default the versions of the instances passed) or merged
    or deleted meanwhile raises ConflictError."""
    if not has_perm(actor, Perm.MERGE_CUSTOMERS):
        raise AccessDenied(Perm.MERGE_CUSTOMERS)
    others = list(others)
    other_ids = _ids(others)
    if not other_ids:
        raise ValidationError({"other_ids": _("Choose at least one other customer to merge.")})
    if target.pk in other_ids:
        raise ValidationError({"other_ids": _("A customer cannot be merged into itself.")})
    if len(other_ids) > MAX_MERGE:
        raise ValidationError(
            {"other_ids": _("At most %(n)d customers can be merged at once.") % {"n": MAX_MERGE}}
        )
    ids = [target.pk, *other_ids]
    # Deleted and merged records count as visible here, so that one merged meanwhile
    # gives a conflict (409), not a 404.
    mergeable = scoped(actor, Perm.MERGE_CUSTOMERS, Customer.all_objects.all())
    if mergeable.filter(pk__in=ids).count() != len(ids):
        raise AccessDenied(Perm.MERGE_CUSTOMERS)
    reason = _reason(reason)
    choices = _check_choices(choices, ids)
    if versions is None:
        known = {c.pk: c.version for c in (target, *others) if isinstance(c, Customer)}
    else:
        known = {int(pk): int(v) for pk, v in versions.items()}
        if set(known) - set(ids):
            raise ValidationError({"versions": _("Give versions only of the merged customers.")})
    now = timezone.now()
    with transaction.atomic():
        # Lock in id order, so two merges over the same records cannot deadlock.
        locked = {
            c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        if len(locked) != len(ids):
            raise ConflictError(target)  # merged or deleted meanwhile
        if mergeable.filter(pk__in=ids).count() != len(ids):
            raise AccessDenied(Perm.MERGE_CUSTOMERS)  # handed to someone else meanwhile
        for pk, version in known.items():
            if locked[pk].version != version:
                raise ConflictError(locked[pk])
        survivor = locked[target.pk]
        merged = [locked[pk] for pk in other_ids]

        before = _snapshot(survivor, MERGE_FIELDS)
        values = merged_values(survivor, merged, choices)
        changes = diff(before, values)
        moved = _move_rows(other_ids, survivor.pk)
        referred = _move_referrals(actor=actor, other_ids=other_ids, ids=ids, to=survivor, now=now)
        added_tags = _union_tags(survivor, other_ids)
        if added_tags:
            old_tags = sorted(set(survivor.tags.values_list("name", flat=True)) - set(added_tags))
            changes["tags"] = [", ".join(old_tags), ", ".join(sorted([*old_tags, *added_tags]))]

        for name, value in values.items():
            if name == "referrer":
                survivor.referrer_id = value
            else:
                setattr(survivor, name, value)
        contacts = [c.last_contact_at for c in (survivor, *merged) if c.last_contact_at]
        survivor.last_contact_at = max(contacts) if contacts else None
        custom: dict[str, Any] = {}
        for record in (*reversed(merged), survivor):  # the survivor's own values win
            custom.update(record.custom or {})
        if custom != (survivor.custom or {}):
            changes["custom"] = [survivor.custom, custom]
        survivor.custom = custom
        compute_search_keys(survivor)
        update = {("referrer_id" if n == "referrer" else n): _value(survivor, n) for n in values}
        update.update({n: getattr(survivor, n) for n in SEARCH_KEY_FIELDS})
        update.update(last_contact_at=survivor.last_contact_at, custom=custom, updated_at=now)
        written = Customer.objects.filter(pk=survivor.pk, version=survivor.version).update(
            version=F("version") + 1, **update
        )
        if written != 1:
            raise ConflictError(survivor)
        survivor.version += 1
        survivor.updated_at = now

        Customer.all_objects.filter(pk__in=other_ids).update(
            deleted_at=now, merged_into=survivor.pk, version=F("version") + 1, updated_at=now
        )
        labels = ", ".join(f"#{c.pk} {c.name}" for c in merged)
        _record_changes(
            actor=actor, customer=survivor, changes={**changes, "merged_from": ["", labels]}
        )
        for other in merged:
            _record_changes(
                actor=actor, customer=other, changes={"merged_into": ["", str(survivor.pk)]}
            )
        audit_record(
            actor=actor,
            action="customer.merge",
            obj=survivor,
            row_count=len(other_ids),
            changes={
                **changes,
                "merged_ids": [None, other_ids],
                "reason": [None, reason],
                "moved": [None, {**moved, "referrals": referred}],
            },
        )
    return survivor


def _move_rows(other_ids: list[int], to: int) -> dict[str, int]:
    """Every registered row of the merged records now belongs to the survivor."""
    moved: dict[str, int] = {}
    for model, field in follower_models():
        count = model._base_manager.filter(**{f"{field}__in": other_ids}).update(**{field: to})
        if count:
            moved[model._meta.label_lower] = count
    # One primary contact: the survivor's, if it has one.
    Contact = apps.get_model("customers", "Contact")
    primaries = list(
        Contact.objects.filter(customer_id=to, is_primary=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    if len(primaries) > 1:
        Contact.all_objects.filter(pk__in=primaries[1:]).update(is_primary=False)
    return moved


def _move_referrals(
    *, actor: Any, other_ids: list[int], ids: list[int], to: Customer, now: Any
) -> int:
    """Customers referred by a merged record are now referred by the survivor."""
    referred = list(
        Customer.all_objects.filter(referrer_id__in=other_ids)
        .exclude(pk__in=ids)
        .values_list("pk", "referrer_id")
    )
    if not referred:
        return 0
    Customer.all_objects.filter(pk__in=[pk for pk, _old in referred]).update(
        referrer=to.pk, version=F("version") + 1, updated_at=now
    )
    CustomerChange.objects.bulk_create(
        CustomerChange(
            customer_id=pk,
            changed_at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            field="referrer",
            old_value=str(old),
            new_value=str(to.pk),
        )
        for pk, old in referred
    )
    return len(referred)


def _union_tags(survivor: Customer, other_ids: list[int]) -> list[str]:
    """Give the survivor every tag of the merged records; return the names added."""
    through = Customer.tags.through
    have = set(through.objects.filter(customer_id=survivor.pk).values_list("tag_id", flat=True))
    new = set(through.objects.filter(customer_id__in=other_ids).values_list("tag_id", flat=True))
    new -= have
    if not new:
        return []
    through.objects.bulk_create(through(customer_id=survivor.pk, tag_id=tag) for tag in new)
    Tag = apps.get_model("customers", "Tag")
    return sorted(Tag.objects.filter(pk__in=new).values_list("name", flat=True))


def survivor_of(pk: int, *, max_hops: int = 20) -> Customer | None:
    """The live customer that ``pk`` was merged into, following chains (A→B→C);
    None if ``pk`` was not merged or its chain ends in a deleted record."""
    seen: set[int] = set()
    current = Customer.all_objects.filter(pk=pk).values("merged_into_id", "deleted_at").first()
    if current is None or current["merged_into_id"] is None:
        return None
    next_id = current["merged_into_id"]
    for _hop in range(max_hops):
        if next_id in seen:
            return None
        seen.add(next_id)
        row = Customer.all_objects.filter(pk=next_id).first()
        if row is None:
            return None
        if row.deleted_at is None:
            return row
        if row.merged_into_id is None:
            return None
        next_id = row.merged_into_id
    return None


# --- Restore -------------------------------------------------------------------------------


def customer_restore(*, actor: Any, customer_id: int) -> Customer:
    """Bring back a deleted customer (not a merged one) with the rows deleted with it.

    The customer must be deleted and within the actor's ``customers.restore`` scope (else
    Customer.DoesNotExist: pages and the API answer 404). Rows of registered followers that
    were soft-deleted at or after the customer's deletion went with it and come back."""
    if not has_perm(actor, Perm.RESTORE_CUSTOMERS):
        raise AccessDenied(Perm.RESTORE_CUSTOMERS)
    with transaction.atomic():
        deleted = scoped(
            actor, Perm.RESTORE_CUSTOMERS, Customer.all_objects.filter(deleted_at__isnull=False)
        )
        customer = deleted.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise Customer.DoesNotExist
        if customer.merged_into_id is not None:
            raise RuleViolation(
                _("This customer was merged into another; open that one instead."), code="rule"
            )
        deleted_at = customer.deleted_at
        record_restore(actor=actor, obj=customer)
        for model, field in follower_models():
            if issubclass(model, SoftDeleteModel):
                model.all_objects.filter(**{field: customer.pk}, deleted_at__gte=deleted_at).update(
                    deleted_at=None
                )
        _record_changes(actor=actor, customer=customer, changes={"deleted_at": [deleted_at, None]})
    return customer

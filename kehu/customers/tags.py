"""The tag vocabulary of the customer file: rename, merge and delete tags
(``customers.tags``).

Tags are shared words (VIP, 展会2026 …) that anyone who edits a customer may add; over time
the list gathers near-duplicates and typos. Fixing one here changes every customer that
carries it, in one transaction (all or nothing), batch by batch (``BATCH`` customers):

- locks the batch's customers (a concurrent edit waits, then sees the new tags);
- changes their tags;
- refreshes their search keys (a tag is a word of ``search_text``, so the customer is found
  by the new name and no longer by the old);
- records a ``tags`` change in each customer's history (old → new, as an edit would);
- bumps ``version``, so that a form opened before the change gets a conflict instead of
  writing the old tags back.

``updated_at`` is left alone: the customer's own record was not worked on, and the list's
"recently changed" order stays meaningful. One audit event records the operation with the
number of customers it changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm, scoped
from kehu.core.audit import audit_record
from kehu.core.models import RuleViolation
from kehu.core.permissions import Perm
from kehu.customers.models import Customer, CustomerChange, Tag
from kehu.customers.services import search_key_values

NAME_MAX_LENGTH = 50
BATCH = 2000
MAX_MERGE = 20
# What search_key_values reads of a customer besides its tags.
_KEY_SOURCES = ("name", "company", "mobile", "phone", "email", "wechat", "city")
_SET_TEXT = (
    f"UPDATE {Customer._meta.db_table} SET search_text = %s, version = version + 1 "  # noqa: S608
    "WHERE id = %s"
)


def _require(actor: Any) -> None:
    if not has_perm(actor, Perm.MANAGE_TAGS):
        raise AccessDenied(Perm.MANAGE_TAGS)


def clean_name(name: Any) -> str:
    """A tag name as kept: printable characters only, trimmed, 1–50 characters."""
    text = "".join(ch for ch in str(name or "") if ch.isprintable()).strip()
    if not text:
        raise ValidationError({"name": [_("Enter a name.")]})
    if len(text) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [_("At most %(n)d characters.") % {"n": NAME_MAX_LENGTH}]})
    return text


# --- Reads ------------------------------------------------------------------------------


def tag_list(*, actor: Any, q: str = "") -> list[Tag]:
    """Every tag (or those whose name contains ``q``), by name, each with
    ``customer_count``: how many of the customers the actor may see carry it (an
    administrator sees all; a manager's figures stay within the scope)."""
    _require(actor)
    found = Tag.objects.order_by("name", "pk")
    if q.strip():
        found = found.filter(name__icontains=q.strip())
    result = list(found)
    counts = _carrier_counts(actor, [tag.pk for tag in result] if q.strip() else None)
    for tag in result:
        tag.customer_count = counts.get(tag.pk, 0)  # type: ignore[attr-defined]
    return result


def tag_customer_count(*, actor: Any, tag: Tag) -> int:
    """How many of the customers the actor may see carry the tag."""
    _require(actor)
    return _carrier_counts(actor, [tag.pk]).get(tag.pk, 0)


def _carrier_counts(actor: Any, tag_ids: list[int] | None) -> dict[int, int]:
    """Tag id → visible carriers, counted on the (customer, tag) rows with one semi-join to
    the scope. (A count annotated on the tags, with the scope as a filter, made PostgreSQL
    check the scope subquery row by row: minutes at a million customers.)"""
    visible = scoped(actor, Perm.VIEW_CUSTOMERS, Customer).values("pk")
    rows = Customer.tags.through.objects.filter(customer_id__in=visible)
    if tag_ids is not None:
        rows = rows.filter(tag_id__in=tag_ids)
    return {row["tag_id"]: row["n"] for row in rows.values("tag_id").annotate(n=Count("pk"))}


def tag_get(*, actor: Any, pk: int) -> Tag:
    _require(actor)
    return Tag.objects.get(pk=pk)


# --- Writes -----------------------------------------------------------------------------


def _apply(
    *, actor: Any, customer_ids: list[int], drop: set[int], add: Tag | None, names: dict[int, str]
) -> int:
    """Take the tags ``drop`` off, put ``add`` on, for these customers, batch by batch
    (see the module docstring); ``names``: tag id → the name to show in history (a
    renamed tag shows its new name on the new side). Returns how many customers changed."""
    through = Customer.tags.through
    changed = 0
    for start in range(0, len(customer_ids), BATCH):
        chunk = customer_ids[start : start + BATCH]
        with transaction.atomic():
            customers = list(
                Customer.all_objects.select_for_update()
                .filter(pk__in=chunk)
                .only("pk", *_KEY_SOURCES)
                .order_by("pk")
            )
            held: dict[int, list[tuple[int, str]]] = defaultdict(list)
            rows = through.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "tag_id", "tag__name"
            )
            for customer_id, tag_id, name in rows:
                held[customer_id].append((tag_id, name))
            if drop:
                through.objects.filter(customer_id__in=chunk, tag_id__in=drop).delete()
            if add is not None:
                missing = [c.pk for c in customers if add.pk not in {t for t, _n in held[c.pk]}]
                through.objects.bulk_create(
                    [through(customer_id=pk, tag_id=add.pk) for pk in missing]
                )
            history = []
            texts: list[tuple[str, int]] = []
            now = timezone.now()
            for customer in customers:
                old = sorted(name for _t, name in held[customer.pk])
                kept = [(t, names.get(t, n)) for t, n in held[customer.pk] if t not in drop]
                if add is not None and add.pk not in {t for t, _n in kept}:
                    kept.append((add.pk, add.name))
                new = sorted(name for _t, name in kept)
                # Of the search keys only search_text holds the tags.
                texts.append(
                    (
                        search_key_values(
                            **{field: getattr(customer, field) for field in _KEY_SOURCES},
                            tags=new,
                        )[4],
                        customer.pk,
                    )
                )
                if new != old:
                    history.append(
                        CustomerChange(
                            customer_id=customer.pk,
                            changed_at=now,
                            actor=actor if getattr(actor, "pk", None) else None,
                            field="tags",
                            old_value=", ".join(old),
                            new_value=", ".join(new),
                        )
                    )
            # One plain UPDATE per customer, sent together: Django's bulk_update writes
            # a CASE over every row of the batch, ~4x slower here.
            with connection.cursor() as cursor:
                cursor.executemany(_SET_TEXT, texts)
            CustomerChange.objects.bulk_create(history)
            changed += len(history)
    return changed


def _carriers(tag_ids: Iterable[int]) -> list[int]:
    """Every customer (deleted ones too: a restore brings them back) with any of the tags."""
    through = Customer.tags.through
    return sorted(
        set(through.objects.filter(tag_id__in=list(tag_ids)).values_list("customer_id", flat=True))
    )


def tag_rename(*, actor: Any, tag: Tag, name: Any) -> Tag:
    """Give a tag another name (a change of case only is allowed). A name another tag has
    already, in any case, is refused: merge into that tag instead."""
    _require(actor)
    new_name = clean_name(name)
    old_name = tag.name
    if new_name == old_name:
        return tag
    if Tag.objects.filter(name__iexact=new_name).exclude(pk=tag.pk).exists():
        raise RuleViolation(
            {
                "name": [
                    _("A tag named “%(name)s” exists already: merge into it instead.")
                    % {"name": new_name}
                ]
            }
        )
    with transaction.atomic():
        carriers = _carriers([tag.pk])
        changed = _apply(  # reads the old name for the history: rename the tag after
            actor=actor, customer_ids=carriers, drop=set(), add=None, names={tag.pk: new_name}
        )
        Tag.objects.filter(pk=tag.pk).update(name=new_name)
        tag.name = new_name
        audit_record(
            actor=actor,
            action="tag.rename",
            obj=tag,
            changes={"name": [old_name, new_name]},
            row_count=changed,
        )
    return tag


def tag_merge(*, actor: Any, sources: Iterable[Tag], target: Tag) -> int:
    """Put ``target`` on every customer that carries one of ``sources``, take the sources
    off and delete them. Returns how many customers changed."""
    _require(actor)
    drop = {tag.pk for tag in sources} - {target.pk}
    if not drop:
        raise ValidationError({"sources": [_("Choose at least one other tag to merge.")]})
    if len(drop) > MAX_MERGE:
        raise ValidationError({"sources": [_("At most %(n)d tags at a time.") % {"n": MAX_MERGE}]})
    merged = list(Tag.objects.filter(pk__in=drop).order_by("name"))
    with transaction.atomic():
        changed = _apply(actor=actor, customer_ids=_carriers(drop), drop=drop, add=target, names={})
        Tag.objects.filter(pk__in=drop).delete()
        audit_record(
            actor=actor,
            action="tag.merge",
            obj=target,
            changes={"merged": [[t.name for t in merged], target.name]},
            row_count=changed,
        )
    return changed


def tag_delete(*, actor: Any, tag: Tag) -> int:
    """Take a tag off every customer and delete it. Returns how many customers changed."""
    _require(actor)
    with transaction.atomic():
        changed = _apply(
            actor=actor, customer_ids=_carriers([tag.pk]), drop={tag.pk}, add=None, names={}
        )
        audit_record(
            actor=actor,
            action="tag.delete",
            obj=tag,
            changes={"name": [tag.name, None]},
            row_count=changed,
        )
        Tag.objects.filter(pk=tag.pk).delete()
    return changed

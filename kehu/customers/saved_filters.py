"""Saved filters of the customer list: services (writes) and selectors (reads).

A saved filter is personal: a name, unique per person, and the list's query string with
only the known filter parameters (kehu.customers.filtering), validated. Nobody sees,
changes or deletes another person's saved filters; for them those do not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm
from kehu.core.audit import audit_record
from kehu.core.models import RuleViolation
from kehu.core.permissions import Perm
from kehu.customers.filtering import clean_query
from kehu.customers.models import SavedFilter

MAX_PER_PERSON = 100
NAME_MAX = 100


# --- Reads --------------------------------------------------------------------------------


def saved_filter_list(*, actor: Any) -> QuerySet[SavedFilter]:
    """The actor's own saved filters, by name."""
    if not has_perm(actor, Perm.VIEW_CUSTOMERS):
        return SavedFilter.objects.none()
    return SavedFilter.objects.filter(owner=actor).order_by("name", "id")


def saved_filter_get(*, actor: Any, pk: int) -> SavedFilter:
    """One of the actor's saved filters, or SavedFilter.DoesNotExist (→ 404)."""
    return saved_filter_list(actor=actor).get(pk=pk)


# --- Writes -------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("Give the filter a name.")]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [_("At most %(n)d characters.") % {"n": NAME_MAX}]})
    return name


def _clean_query(query: str) -> str:
    try:
        cleaned = clean_query(query)
    except ValidationError as exc:
        raise ValidationError(
            {"query": [f"{name}: {m}" for name, ms in exc.message_dict.items() for m in ms]}
        ) from None
    if len(cleaned) > SavedFilter._meta.get_field("query").max_length:  # type: ignore[operator]
        raise ValidationError({"query": [_("This filter is too long to save.")]})
    return cleaned


@transaction.atomic
def saved_filter_save(*, actor: Any, name: str, query: str) -> tuple[SavedFilter, bool]:
    """Save the list's current filter under ``name``; a filter of the same name (of the
    actor) is replaced. Returns (the filter, created)."""
    if not has_perm(actor, Perm.VIEW_CUSTOMERS):
        raise AccessDenied
    name, query = _clean_name(name), _clean_query(query)
    existing = SavedFilter.objects.select_for_update().filter(owner=actor, name=name).first()
    if existing is not None:
        old = existing.query
        existing.query = query
        existing.save(update_fields=["query"])
        audit_record(
            actor=actor,
            action="customer.saved_filter.update",
            obj=existing,
            changes={"query": [old, query]} if old != query else {},
        )
        return existing, False
    if SavedFilter.objects.filter(owner=actor).count() >= MAX_PER_PERSON:
        raise RuleViolation(
            _("You can keep at most %(n)d saved filters; delete one first.")
            % {"n": MAX_PER_PERSON},
            code="rule",
        )
    try:
        with transaction.atomic():
            saved = SavedFilter.objects.create(owner=actor, name=name, query=query)
    except IntegrityError:  # saved at the same moment elsewhere
        raise RuleViolation({"name": [_("You already have a filter with this name.")]}) from None
    audit_record(
        actor=actor,
        action="customer.saved_filter.create",
        obj=saved,
        changes={"name": [None, name], "query": [None, query]},
    )
    return saved, True


@transaction.atomic
def saved_filter_update(
    *, actor: Any, saved_filter: SavedFilter, name: str | None = None, query: str | None = None
) -> SavedFilter:
    """Rename a saved filter or change its query (only the actor's own)."""
    if saved_filter.owner_id != getattr(actor, "pk", None):
        raise AccessDenied
    changes: dict[str, list[str]] = {}
    if name is not None:
        name = _clean_name(name)
        if name != saved_filter.name:
            if (
                SavedFilter.objects.filter(owner=actor, name=name)
                .exclude(pk=saved_filter.pk)
                .exists()
            ):
                raise RuleViolation({"name": [_("You already have a filter with this name.")]})
            changes["name"] = [saved_filter.name, name]
            saved_filter.name = name
    if query is not None:
        query = _clean_query(query)
        if query != saved_filter.query:
            changes["query"] = [saved_filter.query, query]
            saved_filter.query = query
    if changes:
        try:
            with transaction.atomic():
                saved_filter.save(update_fields=["name", "query"])
        except IntegrityError:
            raise RuleViolation(
                {"name": [_("You already have a filter with this name.")]}
            ) from None
        audit_record(
            actor=actor, action="customer.saved_filter.update", obj=saved_filter, changes=changes
        )
    return saved_filter


@transaction.atomic
def saved_filter_delete(*, actor: Any, saved_filter: SavedFilter) -> None:
    if saved_filter.owner_id != getattr(actor, "pk", None):
        raise AccessDenied
    audit_record(
        actor=actor,
        action="customer.saved_filter.delete",
        obj=saved_filter,
        changes={"name": [saved_filter.name, None], "query": [saved_filter.query, None]},
    )
    saved_filter.delete()

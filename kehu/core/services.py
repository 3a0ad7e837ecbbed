"""Writes every app shares: soft delete, restore and purge of KehuModel records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from kehu.core.audit import audit_record
from kehu.core.models import ConflictError, SoftDeleteModel


def record_soft_delete(
    *, actor: Any, obj: SoftDeleteModel, expected_version: int | None = None
) -> None:
    """Mark ``obj`` deleted (restorable); a stale ``expected_version`` conflicts."""
    _set_deleted(actor=actor, obj=obj, deleted_at=timezone.now(), expected_version=expected_version)


def record_restore(*, actor: Any, obj: SoftDeleteModel) -> None:
    """Bring a soft-deleted record back."""
    _set_deleted(actor=actor, obj=obj, deleted_at=None, expected_version=None)


def _set_deleted(
    *, actor: Any, obj: SoftDeleteModel, deleted_at: Any, expected_version: int | None
) -> None:
    model = type(obj)
    rows: Any = model.all_objects.filter(pk=obj.pk)
    update: dict[str, Any] = {"deleted_at": deleted_at}
    if hasattr(obj, "version"):
        update["version"] = F("version") + 1
        if expected_version is not None:
            rows = rows.filter(version=expected_version)
    rows = rows.filter(deleted_at__isnull=deleted_at is not None)
    with transaction.atomic():
        if rows.update(**update) != 1:
            raise ConflictError(obj)
        obj.refresh_from_db(fields=[f for f in ("deleted_at", "version") if hasattr(obj, f)])
        audit_record(
            actor=actor,
            action=f"{model._meta.label_lower}.{'delete' if deleted_at else 'restore'}",
            obj=obj,
            changes={"deleted_at": [None, deleted_at] if deleted_at else ["deleted", None]},
        )


def purge_deleted(
    *,
    model: type[SoftDeleteModel],
    older_than: timedelta = timedelta(days=30),
    keep: Q | None = None,
) -> int:
    """Remove for good the records deleted longer ago than ``older_than`` (except those
    matching ``keep``); audited as one event."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        doomed = model.all_objects.filter(deleted_at__lt=cutoff)
        if keep is not None:
            doomed = doomed.exclude(keep)
        _total, per_model = doomed.delete()  # the total also counts cascaded rows
        count = per_model.get(model._meta.label, 0)
        if count:
            audit_record(
                actor="system",
                action=f"{model._meta.label_lower}.purge",
                row_count=count,
                object_type=model._meta.label_lower,
            )
    return count

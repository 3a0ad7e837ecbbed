"""The shared kernel's models: base classes every editable record builds on, the audit
log, and the schedule of periodic jobs."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConflictError(Exception):
    """A save was based on a stale version: someone else changed the record first."""

    def __init__(self, obj: models.Model | None = None) -> None:
        self.obj = obj
        super().__init__(
            str(_("Someone else changed this record — reload it and apply your change again."))
        )


class RuleViolation(ValidationError):
    """A valid request that the current state forbids (a taken name, disabling yourself).

    Pages show it like any validation error; the API answers 409 with ``code``.
    """

    def __init__(self, message: Any, code: str = "duplicate") -> None:
        super().__init__(message)
        self.code = code


class TimeStampedModel(models.Model):
    """Adds created_at and updated_at."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class ActiveQuerySet(models.QuerySet):
    def alive(self) -> ActiveQuerySet:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> ActiveQuerySet:
        return self.filter(deleted_at__isnull=False)


class AliveManager(models.Manager.from_queryset(ActiveQuerySet)):  # type: ignore[misc]
    """The default manager: records that are not soft-deleted."""

    def get_queryset(self) -> ActiveQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


def deleted_index(name: str) -> models.Index:
    """The index of a soft-deleting model's deleted rows (partial: live rows cost nothing)."""
    return models.Index(
        fields=["deleted_at"], name=name, condition=models.Q(deleted_at__isnull=False)
    )


class SoftDeleteModel(models.Model):
    """Deletion marks the row; restore clears the mark; ``kehu.core.services.purge_deleted``
    removes old marks (each app schedules it for its own models)."""

    # No plain index: "deleted_at IS NULL" holds for nearly every row, and an index on it
    # only tempts the planner into a BitmapAnd over the whole table (90 ms at a few
    # million orders). Each model adds ``deleted_index(...)``: the deleted rows only,
    # which is what the purge and the restore pages read.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects: ClassVar[Any] = AliveManager()
    all_objects: ClassVar[Any] = models.Manager.from_queryset(ActiveQuerySet)()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class VersionedModel(models.Model):
    """Optimistic locking: every save through ``save_versioned`` bumps ``version``; a save
    based on an older version raises ConflictError instead of overwriting."""

    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True

    def save_versioned(self, *, expected_version: int, update_fields: list[str]) -> None:
        """Write ``update_fields`` only if the row is still at ``expected_version``."""
        model = type(self)
        values = {name: getattr(self, name) for name in update_fields}
        if any(f.name == "updated_at" for f in model._meta.fields):
            values["updated_at"] = timezone.now()
        manager = getattr(model, "all_objects", model._default_manager)
        changed = manager.filter(pk=self.pk, version=expected_version).update(
            version=F("version") + 1, **values
        )
        if changed != 1:
            raise ConflictError(self)
        self.version = expected_version + 1
        if "updated_at" in values:
            self.updated_at = values["updated_at"]


class KehuModel(TimeStampedModel, SoftDeleteModel, VersionedModel):
    """The usual base of an editable business record."""

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One append-only entry of the audit log.

    Rows are written unsealed (``seq`` empty) in the same transaction as the change they
    record, so writers never queue on one lock. ``audit_seal`` later gives them a place in
    the hash chain in id order. Database triggers refuse any update of a sealed row, and on
    PostgreSQL any delete; the chain reveals a deleted row on SQLite.
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("row count"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(
                fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"


class AuditChainHead(models.Model):
    """The single row that holds the end of the audit chain; locked only while sealing."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class PeriodicJob(models.Model):
    """When each periodic job (declared in code, see kehu.core.scheduler) runs next.

    Workers race for due rows with SELECT … FOR UPDATE SKIP LOCKED, so however many
    workers run, each due job is enqueued once.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("periodic job")

    def __str__(self) -> str:
        return self.name

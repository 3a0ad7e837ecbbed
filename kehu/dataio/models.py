"""Import jobs: a file, its column mapping, and how far the job has committed.

The machinery is shared: each kind of record (customers now, orders later) registers an
importer in ``kehu.dataio.registry``; the job runner reads the file as a stream, hands rows
to the importer in batches, and commits each batch together with ``processed_rows`` so a
job resumed after a crash starts exactly where the last committed batch ended.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    VCF = "vcf", "vCard"


class ImportJob(models.Model):
    kind = models.CharField(_("kind"), max_length=30)
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    # Path of the uploaded file, relative to KEHU_VAR_DIR/imports; never user-chosen.
    file_path = models.CharField(max_length=300)
    original_name = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10, choices=FileFormat.choices)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    headers = models.JSONField(_("columns"), default=list, blank=True)
    # Column header -> field name of the importer ("" = ignore the column).
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Importer options, e.g. {"on_duplicate": "skip"}.
    options = models.JSONField(_("options"), default=dict, blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    # Data rows committed so far: the resume point.
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    error_report = models.CharField(max_length=300, blank=True)
    message = models.TextField(_("message"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["actor", "-created_at"], name="dataio_job_actor_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name}"

    @property
    def progress(self) -> int:
        """Per cent done (0–100); unknown totals show 0 until the end."""
        if self.status == JobStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(self.processed_rows * 100 / self.total_rows))


class ImportRowError(models.Model):
    """A rejected row: its number in the file, the reasons, and the values as read."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("row"))
    errors = models.JSONField(_("errors"), default=list)
    values = models.JSONField(_("values"), default=dict)

    class Meta:
        ordering = ["job", "row_number"]
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        constraints = [
            models.UniqueConstraint(fields=["job", "row_number"], name="dataio_row_error_unique")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number}"

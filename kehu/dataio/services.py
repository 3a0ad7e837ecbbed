"""Import jobs: upload, mapping, start, the batch runner, resume and the error report.

The runner (:func:`run_import`) reads the job's file as a stream, maps each row's columns
to the importer's fields and hands the importer batches of ``importer.batch_size`` rows.
Each batch runs in ONE transaction together with the job's ``processed_rows``, its
counters and its rejected rows, so a batch is all-or-nothing and a job resumed after a
crash starts exactly after the last committed batch: no row is written twice.
"""

from __future__ import annotations

import csv
import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.access import AccessDenied, has_perm
from kehu.core.audit import audit_record
from kehu.core.exports import safe_row
from kehu.dataio import readers, registry
from kehu.dataio.models import ImportJob, ImportRowError, JobStatus

log = logging.getLogger("kehu.dataio")

# A running job whose heartbeat is older than this is taken to have died with its worker.
STALE_AFTER = timedelta(minutes=2)


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_file(job: ImportJob) -> Path:
    """The uploaded file (gone once pruned: ``prune_import_files``)."""
    return imports_dir() / (job.file_path or "pruned.missing")


def report_file(job: ImportJob) -> Path | None:
    return imports_dir() / job.error_report if job.error_report else None


def max_bytes() -> int:
    return int(getattr(settings, "KEHU_IMPORT_MAX_MB", 50)) * 1024 * 1024


def too_large_message() -> str:
    return _("The file is larger than %(mb)d MB.") % {"mb": max_bytes() // (1024 * 1024)}


def _importer_for(actor: Any, kind: str) -> registry.Importer:
    try:
        importer = registry.get(kind)
    except KeyError:
        raise ValidationError({"kind": _("Nothing of this kind can be imported.")}) from None
    if not has_perm(actor, importer.permission):
        raise AccessDenied(importer.permission)
    return importer


# --- Upload and mapping --------------------------------------------------------------------


def job_create(
    *,
    actor: Any,
    kind: str,
    original_name: str,
    chunks: Iterator[bytes],
    language: str | None = None,
) -> ImportJob:
    """Store an uploaded file under a generated name, check it, read its header and guess
    the column mapping. ValidationError (on ``file``) for anything unusable."""
    importer = _importer_for(actor, kind)
    original_name = os.path.basename((original_name or "").replace("\\", "/"))[:255]
    try:
        file_format = readers.format_for(original_name)
    except readers.FileProblem as exc:
        raise ValidationError({"file": str(exc)}) from None
    stored = f"{uuid.uuid4().hex}.{file_format}"
    path = imports_dir() / stored
    limit, size = max_bytes(), 0
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError({"file": too_large_message()})
                out.write(chunk)
        if size == 0:
            raise ValidationError({"file": _("The file is empty.")})
        encoding = readers.check_content(path, file_format)
        headers = readers.headers(path, file_format, encoding)
        if not headers:
            raise ValidationError({"file": _("The file has no header row.")})
    except readers.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": str(exc)}) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    mapping = registry.guess_mapping(headers, importer.fields)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            actor=actor,
            file_path=stored,
            original_name=original_name,
            file_format=file_format,
            encoding=encoding,
            headers=headers,
            mapping=mapping,
            options=importer.clean_options({}),
            language=language or translation.get_language() or settings.LANGUAGE_CODE,
        )
        audit_record(
            actor=actor,
            action="import.upload",
            obj=job,
            changes={"kind": [None, kind], "file": [None, original_name], "size": [None, size]},
        )
    return job


def job_configure(
    *,
    actor: Any,
    job: ImportJob,
    mapping: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
) -> ImportJob:
    """Change the mapping or options of a job that is not running (nor done for real)."""
    importer = _importer_for(actor, job.kind)
    if job.status not in (JobStatus.PENDING,) and not (
        job.status == JobStatus.DONE and job.dry_run
    ):
        raise ValidationError({"__all__": _("This import has started; it cannot change now.")})
    errors: dict[str, str] = {}
    if mapping is not None:
        known = {f.name for f in importer.fields}
        # A partial mapping changes only the columns it names (PATCH semantics).
        clean: dict[str, str] = {h: job.mapping.get(h, "") for h in job.headers}
        for header in mapping:
            if header in clean:
                clean[header] = ""
        used: dict[str, str] = {name: h for h, name in clean.items() if name}
        for header, name in mapping.items():
            if header not in clean:
                errors["mapping"] = _("The file has no column %(name)s.") % {"name": header[:100]}
                continue
            name = name or ""
            if name and name not in known:
                errors["mapping"] = _("Unknown field %(name)s.") % {"name": name[:50]}
                continue
            if name and name in used:
                errors["mapping"] = _("Two columns are mapped to the same field %(name)s.") % {
                    "name": name
                }
                continue
            if name:
                used[name] = header
            clean[header] = name
        for spec in importer.fields:
            if spec.required and spec.name not in used and not errors:
                errors["mapping"] = _("Map a column to the required field %(label)s.") % {
                    "label": spec.label
                }
    new_options = job.options
    if options is not None:
        try:
            new_options = importer.clean_options({**job.options, **options})
        except ValueError as exc:
            errors["options"] = _("Not one of the choices: %(name)s.") % {"name": str(exc)}
    if errors:
        raise ValidationError(errors)
    if mapping is not None:
        job.mapping = clean
    job.options = new_options
    with transaction.atomic():
        job.save(update_fields=["mapping", "options"])
    return job


def missing_required(job: ImportJob) -> list[str]:
    importer = registry.get(job.kind)
    mapped = set(job.mapping.values())
    return [str(f.label) for f in importer.fields if f.required and f.name not in mapped]


# --- Start, resume -------------------------------------------------------------------------


def _enqueue(job: ImportJob) -> None:
    from kehu.dataio.tasks import run_import_task

    transaction.on_commit(lambda: run_import_task.enqueue(job.pk))


def _reset_counters(job: ImportJob) -> None:
    ImportRowError.objects.filter(job=job).delete()
    old = report_file(job)
    if old is not None:
        old.unlink(missing_ok=True)
    job.error_report = ""
    job.processed_rows = 0
    job.created_count = job.updated_count = job.skipped_count = job.rejected_count = 0
    job.message = ""
    job.started_at = job.finished_at = job.heartbeat_at = None


def job_start(*, actor: Any, job: ImportJob, dry_run: bool, enqueue: bool = True) -> ImportJob:
    """Queue a waiting job (or a finished dry run, for real) for the runner."""
    _importer_for(actor, job.kind)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        startable = job.status == JobStatus.PENDING or (
            job.status == JobStatus.DONE and job.dry_run
        )
        if not startable:
            raise ValidationError({"__all__": _("This import has already run.")})
        missing = missing_required(job)
        if missing:
            raise ValidationError(
                {
                    "mapping": _("Map a column to the required field %(label)s.")
                    % {"label": missing[0]}
                }
            )
        if not job_file(job).exists():
            raise ValidationError({"file": _("The uploaded file is gone; upload it again.")})
        _reset_counters(job)
        job.dry_run = dry_run
        job.status = JobStatus.QUEUED
        job.save()
        audit_record(
            actor=actor,
            action="import.start",
            obj=job,
            changes={"dry_run": [None, dry_run], "options": [None, job.options]},
        )
        if enqueue:
            _enqueue(job)
    return job


def _is_stale(job: ImportJob, now: Any = None) -> bool:
    now = now or timezone.now()
    beat = job.heartbeat_at or job.started_at
    return beat is None or beat < now - STALE_AFTER


def job_resume(*, actor: Any, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Continue a failed or abandoned job after its last committed batch."""
    _importer_for(actor, job.kind)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        resumable = job.status == JobStatus.FAILED or (
            job.status == JobStatus.RUNNING and _is_stale(job)
        )
        if not resumable:
            raise ValidationError({"__all__": _("This import is not interrupted.")})
        if not job_file(job).exists():
            raise ValidationError({"file": _("The uploaded file is gone; upload it again.")})
        job.status = JobStatus.QUEUED
        job.message = ""
        job.save(update_fields=["status", "message"])
        audit_record(
            actor=actor,
            action="import.resume",
            obj=job,
            changes={"processed_rows": [None, job.processed_rows]},
        )
        if enqueue:
            _enqueue(job)
    return job


def prune_import_files(*, now: Any = None) -> int:
    """Delete the uploaded file and the error report of every job that ended more than
    KEHU_IMPORT_KEEP_DAYS ago, or was uploaded that long ago and never started (a mapping
    left half-done): they hold customers' personal data, and nothing needs them once the
    job is over. (A real run deletes its upload when it finishes; a dry run, a failed job
    and one never started keep theirs, and every report stays, until now.) The job's
    record, counts and rejected rows stay; starting or resuming it afterwards says the file
    is gone. Each job pruned is audited (``import.prune``, with its files deleted as the
    row count). Returns the number of files deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.KEHU_IMPORT_KEEP_DAYS)
    ended = Q(status__in=[JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED]) & (
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    abandoned = Q(status=JobStatus.PENDING, created_at__lt=cutoff)
    deleted = 0
    for job in ImportJob.objects.filter(ended | abandoned).exclude(file_path="", error_report=""):
        paths = [p for p in (job_file(job) if job.file_path else None, report_file(job)) if p]
        gone = 0
        for path in paths:
            if path.is_file():
                path.unlink()
                gone += 1
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(file_path="", error_report="")
            audit_record(actor="system", action="import.prune", obj=job, row_count=gone)
        deleted += gone
    if deleted:
        log.info(
            "Deleted %d import files older than %d days.", deleted, settings.KEHU_IMPORT_KEEP_DAYS
        )
    return deleted


def resume_stale_jobs() -> int:
    """Queue again every job left `running` by a worker that died (old heartbeat)."""
    cutoff = timezone.now() - STALE_AFTER
    ids = list(
        ImportJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:100]
    )
    resumed = 0
    for pk in ids:
        with transaction.atomic():
            changed = ImportJob.objects.filter(
                pk=pk, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff
            ).update(status=JobStatus.QUEUED)
            if changed:
                job = ImportJob.objects.get(pk=pk)
                audit_record(
                    actor="system",
                    action="import.resume",
                    obj=job,
                    changes={"processed_rows": [None, job.processed_rows]},
                )
                _enqueue(job)
                resumed += 1
    return resumed


# --- The runner ----------------------------------------------------------------------------


def _claim(job_id: int) -> ImportJob | None:
    """Mark the job running, unless it is already running elsewhere (fresh heartbeat)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if job.status == JobStatus.RUNNING and not _is_stale(job):
            return None
        if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None
        now = timezone.now()
        job.status = JobStatus.RUNNING
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    return job


def map_row(row: dict[str, str], mapping: dict[str, str]) -> dict[str, str]:
    return {name: row.get(header, "") for header, name in mapping.items() if name}


def _batches(
    stream: Iterator[readers.Row], size: int
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    batch: list[tuple[int, dict[str, str]]] = []
    for item in stream:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_END = object()
T = TypeVar("T")
R = TypeVar("R")


# While the helper thread computes, the thread that talks to the database gets the GIL
# back after each wait for the server only when the helper yields it: after the switch
# interval, 5 ms by default, and a batch waits hundreds of times (every COPY buffer flush,
# every statement). 0.5 ms during an import: 50,000 customers on PostgreSQL went from
# 12.9-14.0 s to 11.4-11.7 s (one thread, no helper: 13.6 s).
SWITCH_INTERVAL = 0.0005


@contextmanager
def _short_switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _one_ahead(items: Iterator[T], work: Callable[[T], R]) -> Iterator[R]:
    """``work(item)`` for every item, in order, computed one item ahead in a helper thread:
    while the caller handles one result (in the database, which releases the GIL), the
    next item is read and worked on. An exception raised by ``items`` or ``work`` reaches
    the caller when it asks for that item, after everything before it."""

    def step() -> Any:
        item = next(items, _END)
        return _END if item is _END else work(item)

    with (
        _short_switch_interval(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="kehu-import") as pool,
    ):
        future = pool.submit(step)
        while True:
            result = future.result()
            if result is _END:
                return
            future = pool.submit(step)
            yield result


def run_import(job: ImportJob | int, *, batch_size: int | None = None) -> ImportJob | None:
    """Run (or resume) a queued job to the end. Returns the job, or None if it was not
    claimable (unknown, finished, or running in another worker)."""
    claimed = _claim(job if isinstance(job, int) else job.pk)
    if claimed is None:
        return None
    job = claimed
    importer = registry.get(job.kind)
    size = batch_size or importer.batch_size
    with translation.override(job.language):
        try:
            _run(job, importer, size)
        except readers.FileProblem as exc:
            _fail(job, str(exc))
        except Exception:
            log.exception("import job %s failed", job.pk)
            _fail(job, _("The import stopped on an unexpected error; resume it to continue."))
            raise
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, message=message[:2000], finished_at=timezone.now()
    )
    job.status, job.message = JobStatus.FAILED, message


def _run_batch(
    job: ImportJob,
    importer: registry.Importer,
    state: Any,
    mapped: list[tuple[int, dict[str, str], dict[str, str]]],
    prepared: Any,
) -> None:
    """One batch in one transaction, with the job's counters and rejected rows."""
    with transaction.atomic():
        result = importer.process_batch(job, prepared, state=state, dry_run=job.dry_run)
        raw_by_number = {n: raw for n, _m, raw in mapped}
        if result.rejected:
            ImportRowError.objects.bulk_create(
                [
                    ImportRowError(
                        job=job,
                        row_number=number,
                        errors=messages,
                        values=raw_by_number.get(number, values),
                    )
                    for number, values, messages in result.rejected
                ],
                ignore_conflicts=True,  # a row already rejected before a crash
            )
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=F("processed_rows") + len(mapped),
            created_count=F("created_count") + result.created,
            updated_count=F("updated_count") + result.updated,
            skipped_count=F("skipped_count") + result.skipped,
            rejected_count=F("rejected_count") + len(result.rejected),
            heartbeat_at=now,
        )
    job.processed_rows += len(mapped)
    job.created_count += result.created
    job.updated_count += result.updated
    job.skipped_count += result.skipped
    job.rejected_count += len(result.rejected)
    job.heartbeat_at = now


def _run(job: ImportJob, importer: registry.Importer, size: int) -> None:
    path = job_file(job)
    if not path.exists():
        raise readers.FileProblem(_("The uploaded file is gone; upload it again."))
    if job.total_rows is None:
        job.total_rows = readers.count(path, job.file_format, job.encoding)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
    state = importer.start(job, dry_run=job.dry_run)
    stream = readers.rows(path, job.file_format, job.encoding, start_after=job.processed_rows)
    mapping = job.mapping
    language, zone = translation.get_language(), timezone.get_current_timezone()

    def prepare(batch: list[tuple[int, dict[str, str]]]) -> tuple[list[Any], Any]:
        # In the helper thread: the job's language and time zone, no database.
        with translation.override(language), timezone.override(zone):
            mapped = [(number, map_row(row, mapping), row) for number, row in batch]
            prepared = importer.prepare_batch(
                job, [(n, m) for n, m, _raw in mapped], state=state, dry_run=job.dry_run
            )
        return mapped, prepared

    ahead = closing(_one_ahead(_batches(stream, size), prepare))
    with ahead as prepared_batches:
        for mapped, prepared in prepared_batches:
            _run_batch(job, importer, state, mapped, prepared)
    with transaction.atomic():
        importer.finish(job, state=state, dry_run=job.dry_run)
        job.error_report = write_error_report(job) if job.rejected_count else ""
        job.status = JobStatus.DONE
        job.finished_at = timezone.now()
        if job.total_rows != job.processed_rows:
            job.total_rows = job.processed_rows
        ImportJob.objects.filter(pk=job.pk).update(
            status=job.status,
            finished_at=job.finished_at,
            error_report=job.error_report,
            total_rows=job.total_rows,
        )
        audit_record(
            actor=job.actor,
            action="import.dry_run" if job.dry_run else "import.finish",
            obj=job,
            row_count=job.processed_rows,
            changes={
                "created": [None, job.created_count],
                "updated": [None, job.updated_count],
                "skipped": [None, job.skipped_count],
                "rejected": [None, job.rejected_count],
            },
        )
    if not job.dry_run:
        # The file has been loaded; only the error report (generated name) stays.
        path.unlink(missing_ok=True)


# --- The error report ----------------------------------------------------------------------


def write_error_report(job: ImportJob) -> str:
    """A CSV of the rejected rows (UTF-8 with BOM, so Excel opens it): the original columns
    and a column with the reasons; every cell formula-safe. Returns the relative path."""
    reports = imports_dir() / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    name = f"reports/{uuid.uuid4().hex}.csv"
    headers = list(job.headers)
    with open(imports_dir() / name, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(safe_row([_("Row"), *headers, _("Errors")]))
        rows = ImportRowError.objects.filter(job=job).order_by("row_number")
        for error in rows.iterator(chunk_size=1000):
            values = error.values or {}
            writer.writerow(
                safe_row(
                    [
                        error.row_number,
                        *(values.get(h, "") for h in headers),
                        "; ".join(error.errors),
                    ]
                )
            )
    return name


def job_summary(job: ImportJob) -> dict[str, Any]:
    """What the CLI prints."""
    path = report_file(job)
    return {
        "job": job.pk,
        "status": job.status,
        "dry_run": job.dry_run,
        "rows": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "error_report": str(path) if path else None,
        "message": job.message,
    }

"""API endpoints of import jobs: upload, mapping, start, progress, rejected rows.

Generic over the kinds registered in kehu.dataio.registry; each operation is open to
signed-in users and the services check the kind's own permission (a user without it, or
someone else's job, gets 404 as for a job that does not exist).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.models import RuleViolation
from kehu.core.permissions import AUTHENTICATED
from kehu.dataio import registry, selectors, services
from kehu.dataio.models import ImportJob
from kehu.dataio.schemas import ImportJobOut, ImportJobPatch, ImportStartIn, RowErrorPage

router = Router(tags=["imports"])


def job_out(job: ImportJob) -> dict[str, Any]:
    try:
        importer = registry.get(job.kind)
        fields = [
            {"name": f.name, "label": str(f.label), "required": f.required} for f in importer.fields
        ]
    except KeyError:
        fields = []
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "dry_run": job.dry_run,
        "original_name": job.original_name,
        "file_format": job.file_format,
        "encoding": job.encoding,
        "headers": job.headers,
        "mapping": job.mapping,
        "options": job.options,
        "fields": fields,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "progress": job.progress,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "message": job.message,
        "error_report": bool(job.error_report),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _visible(request: HttpRequest, job_id: int) -> ImportJob:
    try:
        return selectors.job_get(actor=request.user, pk=job_id)
    except ImportJob.DoesNotExist:
        raise Http404 from None


def _state_error(exc: ValidationError) -> RuleViolation:
    return RuleViolation(" ".join(exc.messages), code="state")


@router.post(
    "/imports",
    response={201: ImportJobOut, **WRITE_ERRORS},
    summary="Upload a file to import (CSV, XLSX or vCard)",
)
@require(AUTHENTICATED)
def create_import(
    request: HttpRequest,
    kind: Form[str],
    file: File[UploadedFile],
) -> Any:
    """`kind` says what the file holds (`customers`); `file` is a .csv, .xlsx or .vcf file.
    Stores the file, detects its encoding and columns and guesses the mapping. Then PATCH
    the mapping and options, and start it (optionally as a dry run)."""
    if file.size and file.size > services.max_bytes():
        raise ValidationError({"file": services.too_large_message()})
    job = services.job_create(
        actor=request.user, kind=kind, original_name=file.name or "", chunks=file.chunks()
    )
    return Status(201, job_out(job))


@router.get("/imports/{job_id}", response={200: ImportJobOut, **ERRORS}, summary="An import")
@require(AUTHENTICATED)
def get_import(request: HttpRequest, job_id: int) -> Any:
    """Status, counters and progress (poll it while the job runs)."""
    return job_out(_visible(request, job_id))


@router.patch(
    "/imports/{job_id}", response={200: ImportJobOut, **WRITE_ERRORS}, summary="Map the columns"
)
@require(AUTHENTICATED)
def patch_import(request: HttpRequest, job_id: int, payload: ImportJobPatch) -> Any:
    job = _visible(request, job_id)
    try:
        job = services.job_configure(
            actor=request.user, job=job, mapping=payload.mapping, options=payload.options
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "__all__" in exc.error_dict:
            raise _state_error(exc) from None
        raise
    return job_out(job)


@router.post(
    "/imports/{job_id}/start",
    response={200: ImportJobOut, **WRITE_ERRORS},
    summary="Start an import (or a dry run)",
)
@require(AUTHENTICATED)
def start_import(request: HttpRequest, job_id: int, payload: ImportStartIn) -> Any:
    """A dry run checks every row and finds duplicates but writes nothing; afterwards the
    same job can be started for real."""
    job = _visible(request, job_id)
    try:
        job = services.job_start(actor=request.user, job=job, dry_run=payload.dry_run)
    except ValidationError as exc:
        raise _state_error(exc) from None
    return job_out(job)


@router.post(
    "/imports/{job_id}/resume",
    response={200: ImportJobOut, **WRITE_ERRORS},
    summary="Resume an interrupted import",
)
@require(AUTHENTICATED)
def resume_import(request: HttpRequest, job_id: int) -> Any:
    """Continues after the last committed batch; rows already loaded are not loaded again."""
    job = _visible(request, job_id)
    try:
        job = services.job_resume(actor=request.user, job=job)
    except ValidationError as exc:
        raise _state_error(exc) from None
    return job_out(job)


@router.get(
    "/imports/{job_id}/errors",
    response={200: RowErrorPage, **ERRORS},
    summary="Rejected rows of an import",
)
@require(AUTHENTICATED)
def import_errors(
    request: HttpRequest,
    job_id: int,
    cursor: str = Query(
        "", max_length=10, pattern=r"^[0-9]*$", description="`next_cursor` of the previous page."
    ),
    limit: int = Query(100, ge=1, le=500),
) -> Any:
    job = _visible(request, job_id)
    errors = selectors.job_errors(job=job)
    if cursor:
        errors = errors.filter(row_number__gt=int(cursor))
    items = list(errors[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": [
            {
                "row_number": e.row_number,
                "errors": [str(m) for m in e.errors],
                "values": {str(k): str(v) for k, v in (e.values or {}).items()},
            }
            for e in items
        ],
        "next_cursor": str(items[-1].row_number) if more else None,
    }

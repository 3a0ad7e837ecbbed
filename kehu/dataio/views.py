"""Import pages: upload → column mapping (with a preview and the options) → the job page
with a progress bar (htmx polls it every second), counters, rejected rows and the error
report.

The pages are open to signed-in users; what each one may import is the permission of the
kind's importer (customers: ``customers.import``), checked by the services and
selectors. A job that is not the user's (administrators see all) is a 404.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require
from kehu.core.forms import apply_errors
from kehu.core.permissions import AUTHENTICATED
from kehu.dataio import readers, registry, selectors, services
from kehu.dataio.forms import MappingForm, UploadForm
from kehu.dataio.models import ImportJob, JobStatus

ERROR_ROWS_SHOWN = 100


def _kinds(request: HttpRequest) -> list[str]:
    return [k for k in registry.kinds() if has_perm(request.user, registry.get(k).permission)]


def _visible(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return selectors.job_get(actor=request.user, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404 from None


def _require_some_kind(request: HttpRequest) -> list[str]:
    kinds = _kinds(request)
    if not kinds:
        raise Http404
    return kinds


@require(AUTHENTICATED)
def job_list(request: HttpRequest) -> HttpResponse:
    kinds = _require_some_kind(request)
    jobs = selectors.job_list(actor=request.user)[:50]
    form = UploadForm(kinds=kinds, initial={"kind": request.GET.get("kind") or kinds[0]})
    return render(request, "dataio/job_list.html", {"jobs": jobs, "form": form})


@require(AUTHENTICATED)
def job_upload(request: HttpRequest) -> HttpResponse:
    kinds = _require_some_kind(request)
    if request.method != "POST":
        return redirect("dataio:list")
    form = UploadForm(request.POST, request.FILES, kinds=kinds)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > services.max_bytes():
                raise ValidationError({"file": services.too_large_message()})
            job = services.job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                original_name=upload.name,
                chunks=upload.chunks(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("dataio:detail", pk=job.pk)
    jobs = selectors.job_list(actor=request.user)[:50]
    return render(request, "dataio/job_list.html", {"jobs": jobs, "form": form}, status=422)


def _result_url(job: ImportJob) -> str:
    try:
        name = registry.get(job.kind).result_url_name
        return reverse(name) if name else ""
    except (KeyError, NoReverseMatch):
        return ""


def _context(job: ImportJob) -> dict:
    errors = list(selectors.job_errors(job=job)[:ERROR_ROWS_SHOWN])
    return {
        "job": job,
        "importer": registry.get(job.kind),
        "row_errors": errors,
        "more_errors": max(0, job.rejected_count - len(errors)),
        "configurable": job.status == JobStatus.PENDING
        or (job.status == JobStatus.DONE and job.dry_run),
        "running": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        "resumable": job.status == JobStatus.FAILED,
        "result_url": _result_url(job),
    }


def _detail(request: HttpRequest, job: ImportJob, form: MappingForm | None = None, status=200):
    context = _context(job)
    if context["configurable"]:
        form = form or MappingForm(job=job)
        try:
            preview = readers.preview(
                services.job_file(job), job.file_format, job.encoding, limit=5
            )
        except (readers.FileProblem, OSError):
            preview = []
        context.update(
            {
                "form": form,
                "preview": [[row.get(h, "") for h in job.headers] for row in preview],
            }
        )
    return render(request, "dataio/job_detail.html", context, status=status)


@require(AUTHENTICATED)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _visible(request, pk))


@require(AUTHENTICATED)
@require_POST
def job_start(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible(request, pk)
    form = MappingForm(request.POST, job=job)
    if not form.is_valid():
        return _detail(request, job, form, status=422)
    dry_run = request.POST.get("dry_run") == "1"
    try:
        job = services.job_configure(
            actor=request.user, job=job, mapping=form.mapping(), options=form.options()
        )
        services.job_start(actor=request.user, job=job, dry_run=dry_run)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _detail(request, job, form, status=422)
    return redirect("dataio:detail", pk=job.pk)


@require(AUTHENTICATED)
@require_POST
def job_resume(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible(request, pk)
    try:
        services.job_resume(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("dataio:detail", pk=job.pk)


@require(AUTHENTICATED)
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card alone, for htmx polling."""
    job = _visible(request, pk)
    context = _context(job)
    response = render(request, "dataio/partials/progress.html", context)
    if not context["running"] and request.headers.get("HX-Request") == "true":
        response["HX-Refresh"] = "true"  # finished: reload the page to show what comes next
    return response


@require(AUTHENTICATED)
def job_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible(request, pk)
    path = services.report_file(job)
    if path is None or not path.is_file():
        raise Http404
    stem = re.sub(r"[^\w.\-]+", "_", Path(job.original_name).stem)[:80] or "import"
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"{stem}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )

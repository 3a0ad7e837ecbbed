"""Background jobs of the import machinery."""

from __future__ import annotations

from django_tasks import task

from kehu.dataio import services


@task()
def run_import_task(job_id: int) -> str:
    """Run or resume one import job (idempotent: a finished or busy job is left alone)."""
    job = services.run_import(job_id)
    return job.status if job is not None else "skipped"


@task()
def resume_stale_imports() -> int:
    """Queue again the jobs whose worker died mid-way (old heartbeat)."""
    return services.resume_stale_jobs()


@task()
def prune_import_files() -> int:
    """Delete uploaded import files and error reports past KEHU_IMPORT_KEEP_DAYS."""
    return services.prune_import_files()

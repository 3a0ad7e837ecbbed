"""Background jobs of the shared kernel. Tasks take ids, are idempotent and call services."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from kehu.core.audit import audit_seal


@task()
def seal_audit_log() -> int:
    """Seal pending audit events into the hash chain."""
    return audit_seal()


@task()
def prune_finished_tasks() -> int:
    """Forget results of tasks that finished more than 30 days ago."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - timedelta(days=30)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@task()
def refresh_sqlite_statistics() -> bool:
    """SQLite only: a full ANALYZE, so the planner knows which index narrows a search.

    Without statistics SQLite may pick the soft-delete index and sort a million rows for a
    search that the ordering index answers at once. PostgreSQL's autovacuum keeps its own."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True


def seal_interval() -> timedelta:
    return timedelta(seconds=max(1, settings.KEHU_AUDIT_SEAL_SECONDS))

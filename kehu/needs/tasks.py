"""Background jobs of customer needs."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from kehu.core.services import purge_deleted
from kehu.needs.models import Need


@task()
def purge_deleted_needs() -> int:
    """Needs deleted more than KEHU_PURGE_AFTER_DAYS ago are removed for good."""
    return purge_deleted(model=Need, older_than=timedelta(days=settings.KEHU_PURGE_AFTER_DAYS))

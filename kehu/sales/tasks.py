"""Task entry points of the sales app: idempotent, safe to run on any worker."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from kehu.core.services import purge_deleted
from kehu.sales.models import Contract, Opportunity, Order, Quota


@task()
def contract_reminders() -> dict[str, int]:
    from kehu.sales.contracts import contract_reminders as run

    return run()


@task()
def purge_deleted_sales() -> dict[str, int]:
    """Remove sales records deleted more than KEHU_PURGE_AFTER_DAYS ago."""
    after = timedelta(days=settings.KEHU_PURGE_AFTER_DAYS)
    return {
        model._meta.model_name: purge_deleted(model=model, older_than=after)
        for model in (Opportunity, Order, Contract, Quota)
    }

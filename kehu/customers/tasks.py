"""Background jobs of the customer file."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django_tasks import task

from kehu.core.services import purge_deleted
from kehu.customers.models import Contact, Customer
from kehu.customers.services import customers_return_idle


@task()
def return_idle_customers() -> int:
    """Customers without follow-up go back to the public pool."""
    return customers_return_idle()


@task()
def purge_deleted_customers() -> int:
    """Customers (and contacts deleted on their own) deleted more than KEHU_PURGE_AFTER_DAYS
    ago are removed for good. Records merged into another stay, emptied of their own rows
    by the merge, so that their old ids keep leading to the survivor."""
    older_than = timedelta(days=settings.KEHU_PURGE_AFTER_DAYS)
    keep = Q(merged_into__isnull=False)
    return purge_deleted(model=Customer, older_than=older_than, keep=keep) + purge_deleted(
        model=Contact, older_than=older_than
    )

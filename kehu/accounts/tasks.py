"""Background jobs of accounts."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from kehu.accounts.models import LoginThrottle


@task()
def prune_login_throttles() -> int:
    """Drop throttle rows that are unlocked and a day old."""
    cutoff = timezone.now() - timedelta(days=1)
    stale = LoginThrottle.objects.filter(updated_at__lt=cutoff).exclude(
        locked_until__gt=timezone.now()
    )
    deleted, _ = stale.delete()
    return deleted

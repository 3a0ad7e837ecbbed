"""Reads of the shared kernel."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from kehu.core.access import has_perm
from kehu.core.models import AuditEvent
from kehu.core.permissions import Perm


def audit_event_list(
    *,
    actor: Any,
    action: str = "",
    actor_name: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events for auditors and administrators, newest first."""
    if not has_perm(actor, Perm.VIEW_AUDIT):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action__startswith=action)
    if actor_name:
        events = events.filter(actor_label__icontains=actor_name)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(created_at__gte=datetime.combine(date_from, time.min, tz))
    if date_to:
        events = events.filter(created_at__lte=datetime.combine(date_to, time.max, tz))
    return events.order_by("-id")


def audit_actions() -> list[str]:
    return list(
        AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()[:200]
    )

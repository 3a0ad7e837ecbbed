"""Reads of import jobs: a user sees their own jobs; an actor with the `all` data scope
(administrators) sees everyone's."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kehu.core.access import has_perm, is_signed_in, scope_of
from kehu.core.permissions import Scope
from kehu.dataio import registry
from kehu.dataio.models import ImportJob, ImportRowError


def _allowed_kinds(actor: Any) -> list[str]:
    return [k for k in registry.kinds() if has_perm(actor, registry.get(k).permission)]


def job_list(*, actor: Any) -> QuerySet[ImportJob]:
    if not is_signed_in(actor):
        return ImportJob.objects.none()
    jobs = ImportJob.objects.filter(kind__in=_allowed_kinds(actor)).select_related("actor")
    if scope_of(actor) != Scope.ALL:
        jobs = jobs.filter(actor=actor)
    return jobs


def job_get(*, actor: Any, pk: int) -> ImportJob:
    """The job if the actor may see it, else ImportJob.DoesNotExist."""
    return job_list(actor=actor).get(pk=pk)


def job_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("row_number")

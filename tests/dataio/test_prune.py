"""Uploaded import files and error reports are deleted KEHU_IMPORT_KEEP_DAYS after use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from kehu.core.models import AuditEvent
from kehu.core.scheduler import SCHEDULES
from kehu.dataio import services
from kehu.dataio.models import ImportJob, JobStatus
from tests.dataio.helpers import csv_bytes, run, upload

pytestmark = pytest.mark.django_db

GOOD = [["姓名", "手机"], ["张三", "13800000001"]]
WITH_ERRORS = [["姓名", "手机"], ["张三", "13800000001"], ["", "bad"]]


def _age(job: ImportJob, days: int) -> None:
    past = timezone.now() - timedelta(days=days)
    ImportJob.objects.filter(pk=job.pk).update(created_at=past, finished_at=past)
    job.refresh_from_db()


def test_files_of_old_jobs_go_recent_and_running_ones_stay(owner, settings):
    settings.KEHU_IMPORT_KEEP_DAYS = 30
    old_done = run(owner, upload(owner, "a.csv", csv_bytes(WITH_ERRORS)))
    assert old_done.error_report and services.report_file(old_done).is_file()
    assert not services.job_file(old_done).exists()  # a real run deletes its upload at the end
    old_dry = run(owner, upload(owner, "e.csv", csv_bytes(WITH_ERRORS)), dry_run=True)
    assert services.job_file(old_dry).is_file()  # kept: it may still run for real
    old_pending = upload(owner, "b.csv", csv_bytes(GOOD))  # mapping never finished
    recent_done = run(owner, upload(owner, "c.csv", csv_bytes(WITH_ERRORS)))
    old_running = upload(owner, "d.csv", csv_bytes(GOOD))
    ImportJob.objects.filter(pk=old_running.pk).update(status=JobStatus.RUNNING)
    for job in (old_done, old_dry, old_pending, old_running):
        _age(job, 31)
    _age(recent_done, 29)
    files = {
        job.pk: [services.job_file(job), services.report_file(job)]
        for job in (old_done, old_dry, old_pending, recent_done, old_running)
    }

    # old_done's report, old_dry's file and report, old_pending's file
    assert services.prune_import_files() == 4
    for pk in (old_done.pk, old_dry.pk, old_pending.pk):
        assert not any(path and path.exists() for path in files[pk])
        job = ImportJob.objects.get(pk=pk)
        assert (job.file_path, job.error_report) == ("", "")
    assert services.report_file(recent_done).is_file()  # 29 days: kept
    assert services.job_file(old_running).is_file()  # still running: kept
    done = ImportJob.objects.get(pk=old_done.pk)
    assert (done.status, done.created_count, done.rejected_count) == ("done", 1, 1)
    assert services.prune_import_files() == 0  # nothing left to do
    pruned = AuditEvent.objects.filter(action="import.prune").order_by("object_id")
    assert [(e.object_id, e.row_count) for e in pruned] == [
        (str(old_done.pk), 1), (str(old_dry.pk), 2), (str(old_pending.pk), 1),
    ]  # fmt: skip


def test_a_pruned_job_says_its_file_is_gone(owner, client, settings):
    settings.KEHU_IMPORT_KEEP_DAYS = 30
    pending = upload(owner, "b.csv", csv_bytes(GOOD))
    done = run(owner, upload(owner, "a.csv", csv_bytes(WITH_ERRORS)))
    _age(pending, 31)
    _age(done, 31)
    services.prune_import_files()
    pending.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.job_start(actor=owner, job=pending, dry_run=False, enqueue=False)
    assert "file" in error.value.message_dict
    client.force_login(owner)
    assert client.get(reverse("dataio:detail", args=[pending.pk])).status_code == 200
    assert client.get(reverse("dataio:report", args=[done.pk])).status_code == 404


def test_pruning_runs_daily():
    from django.utils.module_loading import import_string

    schedule = SCHEDULES["dataio.prune_files"]
    assert schedule.every == timedelta(days=1)
    assert import_string(schedule.task_path).func.__name__ == "prune_import_files"

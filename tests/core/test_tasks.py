from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from kehu.core import scheduler
from kehu.core.audit import audit_verify
from kehu.core.models import AuditEvent, PeriodicJob
from kehu.core.tasks import seal_audit_log
from tests.conftest import is_postgres
from tests.task_fixtures import record_run

ROOT = Path(__file__).resolve().parents[2]


def run_worker_batch() -> None:
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def ran(marker: str | None = None) -> int:
    events = AuditEvent.objects.filter(action="test.task_ran")
    return events.filter(object_id=marker).count() if marker else events.count()


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_on_the_database_queue():
    record_run.enqueue("one")
    assert DBTaskResult.objects.count() == 1
    run_worker_batch()
    assert ran("one") == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_run.enqueue("ghost")
        raise RuntimeError("roll back")
    assert DBTaskResult.objects.count() == 0
    run_worker_batch()
    assert ran("ghost") == 0


@pytest.mark.django_db(transaction=True)
def test_the_seal_task_seals_the_audit_log():
    record_run.enqueue("a")
    run_worker_batch()
    seal_audit_log.enqueue()
    run_worker_batch()
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 0
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_scheduler_enqueues_each_due_job_once_per_interval():
    now = timezone.now()
    first = scheduler.tick(now)
    assert set(first) == set(scheduler.SCHEDULES)
    assert scheduler.tick(now + timedelta(milliseconds=1)) == []
    later = now + scheduler.SCHEDULES["core.seal_audit_log"].every + timedelta(seconds=1)
    assert "core.seal_audit_log" in scheduler.tick(later)
    assert PeriodicJob.objects.get(name="core.seal_audit_log").last_run_at == later


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_enqueue_a_due_job_once():
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    scheduler.tick(timezone.now() - timedelta(days=2))  # create the rows
    PeriodicJob.objects.update(next_run_at=timezone.now() - timedelta(seconds=1))
    before = DBTaskResult.objects.count()
    barrier = threading.Barrier(4)
    results: list[list[str]] = []

    def tick():
        try:
            barrier.wait(5)
            results.append(scheduler.tick())
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    names = Counter(name for result in results for name in result)
    assert names and all(count == 1 for count in names.values()), names
    assert DBTaskResult.objects.count() - before == sum(names.values())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_never_run_the_same_job_twice():
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    jobs = 120
    for i in range(jobs):
        record_run.enqueue(f"job-{i}", pause=0.01)
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or ''}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "KEHU_ENV": "test"}
    command = [
        sys.executable,
        "-m",
        "kehu",
        "worker",
        "--batch",
        "--no-scheduler",
        "--interval",
        "0",
    ]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0].decode() for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    per_marker = Counter(
        AuditEvent.objects.filter(action="test.task_ran").values_list("object_id", flat=True)
    )
    assert len(per_marker) == jobs
    assert set(per_marker.values()) == {1}, "some job ran twice"
    by_worker = Counter(
        AuditEvent.objects.filter(action="test.task_ran").values_list("actor_label", flat=True)
    )
    assert len(by_worker) == 2, f"both workers should have taken jobs: {by_worker}"
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == jobs

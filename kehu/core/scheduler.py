"""Periodic jobs, declared in code and run by ``kehu worker``.

Each worker process ticks once a second. Due jobs are claimed with SELECT … FOR UPDATE
SKIP LOCKED (on SQLite the IMMEDIATE transaction serialises the claim), so with any
number of workers a due job is enqueued once. The job itself runs as an ordinary task.

(The maintained schedulers for django-tasks need Python ≥ 3.12; kehu runs on 3.11. See
docs/architecture.md.)
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string

from kehu.core.models import PeriodicJob

log = logging.getLogger("kehu.scheduler")


@dataclass(frozen=True)
class Schedule:
    name: str
    task_path: str  # dotted path of a django-tasks Task
    every: timedelta


SCHEDULES: dict[str, Schedule] = {}


def every(name: str, task_path: str, interval: timedelta) -> Schedule:
    """Declare a periodic job (called at import time by each app's ``schedules`` module)."""
    schedule = Schedule(name, task_path, interval)
    SCHEDULES[name] = schedule
    return schedule


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every job that is due; return the names enqueued."""
    now = now or timezone.now()
    if not SCHEDULES:
        return []
    existing = set(PeriodicJob.objects.filter(name__in=SCHEDULES).values_list("name", flat=True))
    missing = [PeriodicJob(name=n, next_run_at=now) for n in SCHEDULES if n not in existing]
    if missing:
        PeriodicJob.objects.bulk_create(missing, ignore_conflicts=True)
    enqueued = []
    with transaction.atomic():
        due = PeriodicJob.objects.filter(name__in=SCHEDULES, next_run_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for job in due:
            schedule = SCHEDULES[job.name]
            import_string(schedule.task_path).enqueue()
            job.last_run_at = now
            job.next_run_at = now + schedule.every
            job.save(update_fields=["last_run_at", "next_run_at"])
            enqueued.append(job.name)
    return enqueued


class SchedulerThread(threading.Thread):
    """Ticks the scheduler inside a worker process until stopped."""

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(name="kehu-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                close_old_connections()
                names = tick()
                if names:
                    log.info("enqueued periodic jobs: %s", ", ".join(names))
            except OperationalError as exc:  # a busy SQLite file: try again next tick
                log.warning("scheduler tick skipped: %s", exc)
            except Exception:
                log.exception("scheduler tick failed")
        close_old_connections()

"""Tasks used only by the tests (importable by worker subprocesses too)."""

from __future__ import annotations

import os
import time

from django.db import transaction
from django_tasks import task

from kehu.core.audit import audit_record


@task()
def record_run(marker: str, pause: float = 0.0) -> str:
    if pause:
        time.sleep(pause)
    with transaction.atomic():
        audit_record(actor=f"worker-{os.getpid()}", action="test.task_ran", object_id=marker)
    return marker

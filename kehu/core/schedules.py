"""The kernel's periodic jobs."""

from datetime import timedelta

from kehu.core.scheduler import every
from kehu.core.tasks import seal_interval

every("core.seal_audit_log", "kehu.core.tasks.seal_audit_log", seal_interval())
every("core.prune_finished_tasks", "kehu.core.tasks.prune_finished_tasks", timedelta(days=1))
every(
    "core.refresh_sqlite_statistics",
    "kehu.core.tasks.refresh_sqlite_statistics",
    timedelta(days=1),
)

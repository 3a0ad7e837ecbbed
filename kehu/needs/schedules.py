from datetime import timedelta

from kehu.core.scheduler import every

every("needs.purge_deleted", "kehu.needs.tasks.purge_deleted_needs", timedelta(days=1))

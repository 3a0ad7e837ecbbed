from datetime import timedelta

from kehu.core.scheduler import every

# Hourly, so that a reminder is raised soon after midnight in each owner's time zone.
every("sales.contract_reminders", "kehu.sales.tasks.contract_reminders", timedelta(hours=1))
every("sales.purge_deleted", "kehu.sales.tasks.purge_deleted_sales", timedelta(days=1))

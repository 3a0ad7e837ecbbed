from datetime import timedelta

from kehu.core.scheduler import every

every("customers.return_idle", "kehu.customers.tasks.return_idle_customers", timedelta(hours=1))
every("customers.purge_deleted", "kehu.customers.tasks.purge_deleted_customers", timedelta(days=1))

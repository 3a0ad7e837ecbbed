from datetime import timedelta

from kehu.core.scheduler import every

every(
    "accounts.prune_login_throttles",
    "kehu.accounts.tasks.prune_login_throttles",
    timedelta(hours=1),
)

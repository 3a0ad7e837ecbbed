from datetime import timedelta

from kehu.core.scheduler import every

every("dataio.resume_stale", "kehu.dataio.tasks.resume_stale_imports", timedelta(minutes=1))

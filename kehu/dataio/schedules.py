from datetime import timedelta

from kehu.core.scheduler import every

every("dataio.resume_stale", "kehu.dataio.tasks.resume_stale_imports", timedelta(minutes=1))
every("dataio.prune_files", "kehu.dataio.tasks.prune_import_files", timedelta(days=1))

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "kehu.dataio"
    label = "dataio"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from kehu.dataio import schedules  # noqa: F401  (registrations)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataioConfig(AppConfig):
    name = "kehu.dataio"
    label = "dataio"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from kehu.core.navigation import NavItem
        from kehu.core.navigation import register as register_nav
        from kehu.core.permissions import Perm
        from kehu.dataio import schedules  # noqa: F401  (registrations)

        # One Import page for every kind: shown to whoever may import any of them.
        imports = (Perm.IMPORT_CUSTOMERS, Perm.IMPORT_ORDERS)
        register_nav(NavItem(_("Import"), "dataio:list", imports, order=30))

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kehu.customers import home, navigation, schedules  # noqa: F401  (registrations)
        from kehu.customers.importers import register as register_importer

        register_importer()  # the customer importer of kehu.dataio's job runner

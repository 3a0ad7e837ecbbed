from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kehu.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from kehu.customers.merging import follows_customer
        from kehu.sales import home, importers, navigation, schedules  # noqa: F401  (registrations)

        importers.register()

        # A customer's orders, contracts and opportunities move with a merge.
        follows_customer("sales.Order", "customer")
        follows_customer("sales.Contract", "customer")
        follows_customer("sales.Opportunity", "customer")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "kehu.needs"
    label = "needs"
    verbose_name = _("Customer needs")

    def ready(self) -> None:
        from kehu.customers.merging import follows_customer
        from kehu.needs import navigation, schedules  # noqa: F401  (registrations)

        # A customer's needs move with a merge and come back with a restore.
        follows_customer("needs.Need", "customer")

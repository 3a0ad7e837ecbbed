from django.utils.translation import gettext_lazy as _

from kehu.core.navigation import NavItem, register
from kehu.core.permissions import Perm

register(
    NavItem(_("Customers"), "customers:list", Perm.VIEW_CUSTOMERS, order=10),
    NavItem(_("Public pool"), "customers:pool", Perm.CLAIM_CUSTOMERS, order=20),
    NavItem(
        _("Custom fields"),
        "customers:custom_field_list",
        Perm.MANAGE_CUSTOM_FIELDS,
        "admin",
        order=500,
    ),
    NavItem(_("Tags"), "customers:tag_list", Perm.MANAGE_TAGS, "admin", order=510),
    NavItem(
        _("Deleted customers"), "customers:deleted", Perm.RESTORE_CUSTOMERS, "admin", order=850
    ),
)

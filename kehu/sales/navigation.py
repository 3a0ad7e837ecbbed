from django.utils.translation import gettext_lazy as _

from kehu.core.navigation import NavItem, register
from kehu.core.permissions import Perm

register(NavItem(_("Orders"), "sales:orders", Perm.VIEW_SALES, order=40))
register(NavItem(_("Pipeline"), "sales:pipeline", Perm.VIEW_SALES, order=41))
register(NavItem(_("Contracts"), "sales:contracts", Perm.VIEW_SALES, order=42))
register(NavItem(_("Quotas"), "sales:quotas", Perm.VIEW_SALES, order=43))
register(NavItem(_("Products"), "sales:products", Perm.VIEW_SALES, order=44))

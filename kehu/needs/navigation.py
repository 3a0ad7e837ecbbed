from django.utils.translation import gettext_lazy as _

from kehu.core.navigation import NavItem, register
from kehu.core.permissions import Perm

register(NavItem(_("Needs"), "needs:list", Perm.VIEW_CUSTOMERS, order=30))

from django.utils.translation import gettext_lazy as _

from kehu.core.navigation import NavItem, register
from kehu.core.permissions import Perm

register(
    NavItem(_("Users"), "accounts:user_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Departments"), "accounts:department_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Teams"), "accounts:team_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Roles"), "accounts:role_list", Perm.MANAGE_USERS, "admin"),
)

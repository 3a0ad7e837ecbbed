"""The navigation: it grows as capabilities land, and shows only what the user may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.core.access import has_perm
from kehu.core.permissions import AUTHENTICATED, Perm


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    perm: str
    section: str = ""


NAV: list[NavItem] = [
    NavItem(_("Home"), "core:home", AUTHENTICATED),
    NavItem(_("Users"), "accounts:user_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Departments"), "accounts:department_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Teams"), "accounts:team_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Roles"), "accounts:role_list", Perm.MANAGE_USERS, "admin"),
    NavItem(_("Audit log"), "core:audit_list", Perm.VIEW_AUDIT, "admin"),
]


def nav_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    items = []
    for item in NAV:
        if has_perm(user, item.perm):
            url = reverse(item.url_name)
            active = current_path == url if url == "/" else current_path.startswith(url)
            items.append(
                {"label": item.label, "url": url, "section": item.section, "active": active}
            )
    return items

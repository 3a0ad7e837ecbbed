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
    perm: str | tuple[str, ...]  # a tuple: shown to whoever holds any one of them
    section: str = ""
    order: int = 100


NAV: list[NavItem] = []


def register(*items: NavItem) -> None:
    """Each app adds its pages when it is ready (so nothing links to a page not there)."""
    for item in items:
        if item not in NAV:
            NAV.append(item)


register(
    NavItem(_("Home"), "core:home", AUTHENTICATED, order=0),
    NavItem(_("Audit log"), "core:audit_list", Perm.VIEW_AUDIT, "admin", order=900),
)


def nav_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    """The items the user may open; the active one is the longest URL the path starts
    with (so /sales/pipeline/… marks Pipeline, not a shorter /sales/ item)."""
    items = []
    for item in sorted(NAV, key=lambda i: i.order):
        perms = item.perm if isinstance(item.perm, tuple) else (item.perm,)
        if any(has_perm(user, perm) for perm in perms):
            url = reverse(item.url_name)
            items.append({"label": item.label, "url": url, "section": item.section})
    matching = [
        i["url"]
        for i in items
        if (current_path == i["url"] if i["url"] == "/" else current_path.startswith(i["url"]))
    ]
    best = max(matching, key=len, default=None)
    for i in items:
        i["active"] = i["url"] == best
    return items

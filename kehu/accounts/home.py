"""Figures accounts contributes to the home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.accounts.selectors import home_counts
from kehu.core.access import has_perm
from kehu.core.home import HomeCard, register
from kehu.core.permissions import Perm


@register
def accounts_cards(user: Any) -> list[HomeCard]:
    counts = home_counts(actor=user)
    manage = has_perm(user, Perm.MANAGE_USERS)
    cards = []
    if "active_users" in counts:
        cards += [
            HomeCard(
                "active_users",
                _("Active colleagues"),
                counts["active_users"],
                reverse("accounts:user_list") if manage else "",
            ),
            HomeCard(
                "teams",
                _("Teams"),
                counts["teams"],
                reverse("accounts:team_list") if manage else "",
            ),
            HomeCard(
                "departments",
                _("Departments"),
                counts["departments"],
                reverse("accounts:department_list") if manage else "",
            ),
        ]
    cards.append(
        HomeCard(
            "my_tokens", _("My active API tokens"), counts["my_tokens"], reverse("accounts:profile")
        )
    )
    return cards

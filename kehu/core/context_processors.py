from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from kehu import __version__
from kehu.core.navigation import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    nav = nav_for(user, request.path) if signed_in else []
    return {
        "kehu_version": __version__,
        "nav_main": [item for item in nav if not item["section"]],
        "nav_admin": [item for item in nav if item["section"] == "admin"],
        "kehu_languages": settings.LANGUAGES,
    }

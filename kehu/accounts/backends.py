"""Sign in with a username, an email address or a mobile number."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from kehu.accounts.models import User

_NOT_DIGITS = re.compile(r"\D")


def normalise_mobile(value: str) -> str:
    """Digits only, without a leading +86/0086 for Chinese mobiles."""
    digits = _NOT_DIGITS.sub("", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    return digits


def find_user(identifier: str) -> User | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    condition = Q(username__iexact=identifier)
    if "@" in identifier:
        condition |= Q(email__iexact=identifier)
    mobile = normalise_mobile(identifier)
    if len(mobile) >= 7 and not re.search(r"[A-Za-z@]", identifier):
        condition |= Q(mobile=mobile)
    matches = list(User.objects.filter(condition).select_related("role")[:2])
    return matches[0] if len(matches) == 1 else None


class KehuBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = find_user(username or kwargs.get("identifier") or "")
        if user is None:
            # Spend the same time as a real check, so timing tells nothing.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: int) -> User | None:
        user = User.objects.select_related("role", "team", "department").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

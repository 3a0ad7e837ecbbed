"""Access policy: the one place that turns (user, permission, model) into what that user
may see. Every selector, page and API endpoint goes through here.

A model says how it is owned by a ``ScopeFields`` attribute ``access_scope``; the user's
role says which permissions they hold and how far they see (own / team / department /
all). Anything not visible is simply absent: callers answer 404, never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from kehu.core.permissions import AUTHENTICATED, PUBLIC, Perm, Scope

F = TypeVar("F", bound=Callable[..., Any])


class AccessDenied(Exception):
    """The actor may not do this. Pages and the API answer 404, as for a missing row."""


@dataclass(frozen=True)
class ScopeFields:
    """The lookups that tie a row to a user, a team and a department."""

    own: str
    team: str
    department: str


def is_signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def permissions_of(user: Any) -> frozenset[str]:
    if not is_signed_in(user):
        return frozenset()
    if user.is_superuser:
        return frozenset(Perm.values) | _EXTRA_PERMISSIONS
    role = getattr(user, "role", None)
    return frozenset(role.permissions) if role is not None else frozenset()


_EXTRA_PERMISSIONS: frozenset[str] = frozenset()


def has_perm(user: Any, perm: str) -> bool:
    if perm == PUBLIC:
        return True
    if perm == AUTHENTICATED:
        return is_signed_in(user)
    return perm in permissions_of(user)


def scope_of(user: Any) -> str:
    if not is_signed_in(user):
        return ""
    if user.is_superuser:
        return Scope.ALL
    role = getattr(user, "role", None)
    return role.data_scope if role is not None else Scope.OWN


def scope_filter(user: Any, fields: ScopeFields) -> Q | None:
    """The filter for this user's data scope; None means everything."""
    scope = scope_of(user)
    if scope == Scope.ALL:
        return None
    if scope == Scope.DEPARTMENT and user.department_id:
        return Q(**{fields.department: user.department_id})
    if scope == Scope.TEAM and user.team_id:
        return Q(**{fields.team: user.team_id})
    return Q(**{fields.own: user.pk})


def scoped(user: Any, perm: str, source: type[Model] | QuerySet) -> QuerySet:
    """Return the rows of ``source`` that ``user`` may act on with ``perm``."""
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    if not has_perm(user, perm):
        return queryset.none()
    fields: ScopeFields | None = getattr(queryset.model, "access_scope", None)
    if fields is None:
        raise TypeError(f"{queryset.model.__name__} declares no access_scope.")
    condition = scope_filter(user, fields)
    return queryset if condition is None else queryset.filter(condition)


def get_visible_or_404(user: Any, perm: str, source: type[Model] | QuerySet, **lookup: Any):
    """One row the user may act on, or Http404 (never a hint that it exists)."""
    try:
        return scoped(user, perm, source).get(**lookup)
    except (Http404, LookupError, ValueError, TypeError):
        raise Http404 from None
    except Exception as exc:  # DoesNotExist / MultipleObjectsReturned of any model
        if type(exc).__name__ in {"DoesNotExist", "MultipleObjectsReturned", "ValidationError"}:
            raise Http404 from None
        raise


def require(perm: str) -> Callable[[F], F]:
    """Declare (and enforce) the permission of a page view or API operation.

    Every kehu URL and API operation must carry one; a system check and a test walk them
    all. Pages send anonymous users to the login page; missing permission is a 404.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> Any:
            user = getattr(request, "user", None)
            if perm != PUBLIC and not is_signed_in(user):
                from django.contrib.auth.views import redirect_to_login

                if getattr(request, "kehu_api", False):
                    raise PermissionDenied
                return redirect_to_login(request.get_full_path())
            if not has_perm(user, perm):
                raise Http404
            try:
                return view(request, *args, **kwargs)
            except AccessDenied:
                raise Http404 from None

        wrapper.kehu_permission = perm  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def declared_permission(view: Any) -> str | None:
    """The permission a view declared, looking through class-based view wrappers."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "__wrapped__", None)):
        perm = getattr(candidate, "kehu_permission", None)
        if perm:
            return perm
    return None

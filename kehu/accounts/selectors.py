"""Reads for accounts, always scoped to the actor."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kehu.accounts.models import ApiToken, Department, Role, Team, User
from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm


def user_list(*, actor: Any, q: str = "", include_inactive: bool = True) -> QuerySet[User]:
    """Users the actor may see: managers of users see all, others by their data scope."""
    perm = Perm.MANAGE_USERS if has_perm(actor, Perm.MANAGE_USERS) else Perm.VIEW_USERS
    users = User.objects.all() if perm == Perm.MANAGE_USERS else scoped(actor, perm, User)
    users = users.select_related("department", "team", "role")
    if not include_inactive:
        users = users.filter(is_active=True)
    q = (q or "").strip()
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(name__icontains=q)
            | Q(email__icontains=q)
            | Q(mobile__contains=q)
        )
    return users.order_by("username")


def user_get(*, actor: Any, pk: int) -> User:
    """One visible user, or User.DoesNotExist."""
    return user_list(actor=actor).get(pk=pk)


def department_list(*, actor: Any) -> QuerySet[Department]:
    if not (has_perm(actor, Perm.VIEW_USERS) or has_perm(actor, Perm.MANAGE_USERS)):
        return Department.objects.none()
    return Department.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True), distinct=True),
        team_count=Count("teams", distinct=True),
    ).order_by("position", "code")


def team_list(*, actor: Any) -> QuerySet[Team]:
    if not (has_perm(actor, Perm.VIEW_USERS) or has_perm(actor, Perm.MANAGE_USERS)):
        return Team.objects.none()
    return (
        Team.objects.select_related("department", "leader")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("name")
    )


def role_list(*, actor: Any) -> QuerySet[Role]:
    if not has_perm(actor, Perm.MANAGE_USERS):
        return Role.objects.none()
    return Role.objects.annotate(user_count=Count("users")).order_by("code")


def token_list(*, actor: Any, user: User) -> QuerySet[ApiToken]:
    if actor.pk != user.pk and not has_perm(actor, Perm.MANAGE_USERS):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def home_counts(*, actor: Any) -> dict[str, int]:
    """Real figures for the home page, each within what the actor may see."""
    counts: dict[str, int] = {}
    if has_perm(actor, Perm.VIEW_USERS) or has_perm(actor, Perm.MANAGE_USERS):
        visible = user_list(actor=actor)
        counts["active_users"] = visible.filter(is_active=True).count()
        counts["teams"] = team_list(actor=actor).filter(is_active=True).count()
        counts["departments"] = department_list(actor=actor).filter(is_active=True).count()
    counts["my_tokens"] = (
        ApiToken.objects.filter(user=actor, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .count()
    )
    return counts

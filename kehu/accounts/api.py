"""API endpoints for accounts: the signed-in user, users, organisation, roles, tokens."""

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer

from kehu.accounts import selectors, services
from kehu.accounts.middleware import apply_preferences
from kehu.accounts.models import ApiToken, Department, Role, Team, User
from kehu.accounts.schemas import (
    DepartmentIn,
    DepartmentOut,
    DepartmentPatch,
    RoleOut,
    TeamIn,
    TeamOut,
    TeamPatch,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)
from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.permissions import AUTHENTICATED, Perm

router = Router(tags=["accounts"])


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kehu_…``: a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.token_authenticate(token)
        if user is not None:
            request.user = user
            request.kehu_api = True  # type: ignore[attr-defined]
            apply_preferences(request, user)  # the middleware ran before the token was read
        return user


def _fk(model: Any, pk: int | None, field: str) -> Any:
    """The row a body field points to; an unknown id is a 404 that names the field."""
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise HttpError(404, field)
    return obj


def _resolve_org(payload: dict[str, Any]) -> dict[str, Any]:
    for name, model in (("department", Department), ("team", Team), ("role", Role)):
        key = name + "_id"
        if key in payload:
            payload[name] = _fk(model, payload.pop(key), key)
    return payload


@router.get("/me", response={200: UserOut, **ERRORS}, summary="The signed-in user")
@require(AUTHENTICATED)
def me(request: HttpRequest) -> Any:
    return request.user


@router.get("/users", response={200: UserPage, **ERRORS}, summary="List users")
@require(Perm.VIEW_USERS)
def list_users(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    users = selectors.user_list(actor=request.user, q=q)
    return {
        "count": users.count(),
        "limit": limit,
        "offset": offset,
        "items": list(users[offset : offset + limit]),
    }


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, summary="One user")
@require(Perm.VIEW_USERS)
def get_user(request: HttpRequest, user_id: int) -> Any:
    return get_object_or_404(selectors.user_list(actor=request.user), pk=user_id)


@router.post("/users", response={201: UserOut, **WRITE_ERRORS}, summary="Create a user")
@require(Perm.MANAGE_USERS)
def create_user(request: HttpRequest, payload: UserIn) -> Any:
    data = _resolve_org(payload.dict())
    username, password = data.pop("username"), data.pop("password")
    user = services.user_create(actor=request.user, username=username, password=password, **data)
    return Status(201, user)


@router.patch("/users/{user_id}", response={200: UserOut, **WRITE_ERRORS}, summary="Change a user")
@require(Perm.MANAGE_USERS)
def update_user(request: HttpRequest, user_id: int, payload: UserPatch) -> Any:
    user = get_object_or_404(selectors.user_list(actor=request.user), pk=user_id)
    data = _resolve_org(payload.dict(exclude_unset=True))
    version = data.pop("version")
    return services.user_update(actor=request.user, user=user, expected_version=version, **data)


@router.post(
    "/users/{user_id}/disable", response={200: UserOut, **WRITE_ERRORS}, summary="Disable a user"
)
@require(Perm.MANAGE_USERS)
def disable_user(request: HttpRequest, user_id: int) -> Any:
    user = get_object_or_404(selectors.user_list(actor=request.user), pk=user_id)
    return services.user_set_active(actor=request.user, user=user, is_active=False)


@router.post(
    "/users/{user_id}/enable", response={200: UserOut, **WRITE_ERRORS}, summary="Enable a user"
)
@require(Perm.MANAGE_USERS)
def enable_user(request: HttpRequest, user_id: int) -> Any:
    user = get_object_or_404(selectors.user_list(actor=request.user), pk=user_id)
    return services.user_set_active(actor=request.user, user=user, is_active=True)


@router.get(
    "/departments", response={200: list[DepartmentOut], **ERRORS}, summary="List departments"
)
@require(Perm.VIEW_USERS)
def list_departments(request: HttpRequest) -> Any:
    return list(selectors.department_list(actor=request.user))


@router.post(
    "/departments", response={201: DepartmentOut, **WRITE_ERRORS}, summary="Create a department"
)
@require(Perm.MANAGE_USERS)
def create_department(request: HttpRequest, payload: DepartmentIn) -> Any:
    return Status(201, services.department_save(actor=request.user, **payload.dict()))


@router.patch(
    "/departments/{department_id}",
    response={200: DepartmentOut, **WRITE_ERRORS},
    summary="Change a department",
)
@require(Perm.MANAGE_USERS)
def update_department(request: HttpRequest, department_id: int, payload: DepartmentPatch) -> Any:
    department = get_object_or_404(selectors.department_list(actor=request.user), pk=department_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return services.department_save(
        actor=request.user, department=department, expected_version=version, **data
    )


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, summary="List teams")
@require(Perm.VIEW_USERS)
def list_teams(request: HttpRequest) -> Any:
    return list(selectors.team_list(actor=request.user))


@router.post("/teams", response={201: TeamOut, **WRITE_ERRORS}, summary="Create a team")
@require(Perm.MANAGE_USERS)
def create_team(request: HttpRequest, payload: TeamIn) -> Any:
    data = payload.dict()
    data["department"] = _fk(Department, data.pop("department_id"), "department_id")
    data["leader"] = _fk(User, data.pop("leader_id"), "leader_id")
    return Status(201, services.team_save(actor=request.user, **data))


@router.patch("/teams/{team_id}", response={200: TeamOut, **WRITE_ERRORS}, summary="Change a team")
@require(Perm.MANAGE_USERS)
def update_team(request: HttpRequest, team_id: int, payload: TeamPatch) -> Any:
    team = get_object_or_404(selectors.team_list(actor=request.user), pk=team_id)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    if "department_id" in data:
        data["department"] = _fk(Department, data.pop("department_id"), "department_id")
    if "leader_id" in data:
        data["leader"] = _fk(User, data.pop("leader_id"), "leader_id")
    return services.team_save(actor=request.user, team=team, expected_version=version, **data)


@router.get("/roles", response={200: list[RoleOut], **ERRORS}, summary="List roles")
@require(Perm.MANAGE_USERS)
def list_roles(request: HttpRequest) -> Any:
    return list(selectors.role_list(actor=request.user))


@router.get("/tokens", response={200: list[TokenOut], **ERRORS}, summary="My API tokens")
@require(AUTHENTICATED)
def list_tokens(request: HttpRequest) -> Any:
    return list(selectors.token_list(actor=request.user, user=request.user))


@router.post("/tokens", response={201: TokenCreated, **WRITE_ERRORS}, summary="Create an API token")
@require(AUTHENTICATED)
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    token, secret = services.token_create(
        actor=request.user, user=request.user, name=payload.name, days=payload.days
    )
    token.token = secret  # type: ignore[attr-defined]
    return Status(201, token)


@router.delete(
    "/tokens/{token_id}", response={204: None, **WRITE_ERRORS}, summary="Revoke an API token"
)
@require(AUTHENTICATED)
def revoke_token(request: HttpRequest, token_id: int) -> Any:
    token = get_object_or_404(
        selectors.token_list(actor=request.user, user=request.user), pk=token_id
    )
    services.token_revoke(actor=request.user, token=token)
    return Status(204, None)


__all__ = ["ApiToken", "TokenAuth", "router"]

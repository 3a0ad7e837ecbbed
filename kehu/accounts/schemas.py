"""API shapes for accounts."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    name_zh_hans: str
    name_zh_hant: str
    is_active: bool
    version: int


class DepartmentIn(Schema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    name_en: str = Field(..., min_length=1, max_length=100)
    name_zh_hans: str = Field(..., min_length=1, max_length=100)
    name_zh_hant: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    is_active: bool = True


class DepartmentPatch(Schema):
    version: int
    name_en: str | None = Field(None, min_length=1, max_length=100)
    name_zh_hans: str | None = Field(None, min_length=1, max_length=100)
    name_zh_hant: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    is_active: bool | None = None


class TeamOut(Schema):
    id: int
    name: str
    department_id: int
    leader_id: int | None
    is_active: bool
    version: int


class TeamIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    department_id: int
    leader_id: int | None = None


class TeamPatch(Schema):
    version: int
    name: str | None = Field(None, min_length=1, max_length=100)
    department_id: int | None = None
    leader_id: int | None = None
    is_active: bool | None = None


class RoleOut(Schema):
    id: int
    code: str
    name: str
    permissions: list[str]
    data_scope: str
    is_system: bool
    version: int


class UserOut(Schema):
    id: int
    username: str
    name: str
    email: str
    mobile: str
    department_id: int | None
    team_id: int | None
    role_id: int | None
    language: str
    time_zone: str
    is_active: bool
    date_joined: datetime
    version: int


class UserIn(Schema):
    username: str = Field(..., min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str | None = Field(None, min_length=1, max_length=128)
    name: str = Field("", max_length=100)
    email: str = Field("", max_length=254)
    mobile: str = Field("", max_length=20)
    department_id: int | None = None
    team_id: int | None = None
    role_id: int | None = None
    language: str = Field("", max_length=10)
    time_zone: str = Field("", max_length=64)


class UserPatch(Schema):
    version: int
    name: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    mobile: str | None = Field(None, max_length=20)
    department_id: int | None = None
    team_id: int | None = None
    role_id: int | None = None
    language: str | None = Field(None, max_length=10)
    time_zone: str | None = Field(None, max_length=64)


class UserPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[UserOut]


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    days: int = Field(365, ge=0, le=3650)


class TokenCreated(TokenOut):
    token: str

"""API shapes for accounts.

Input shapes are strict: a field that may be left out of a PATCH is not thereby nullable,
and the patterns say what the services accept, so a schema-valid request is a valid one.
"""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.api import JsonInt, StrictSchema
from kehu.core.timezones import TIME_ZONES

Language = Literal["", "zh-hans", "zh-hant", "en"]
TimeZone = Literal[("", *TIME_ZONES)]  # type: ignore[valid-type]
CODE = r"^[-a-zA-Z0-9_]+$"
USERNAME = r"^[A-Za-z0-9._-]+$"
# What Django's email validator accepts, in the shape a schema can say (or empty).
EMAIL = (
    r"^([A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})?$"
)
MOBILE = r"^(\+?[0-9]{7,15})?$"
# Django's validators also refuse common and all-digit passwords: at least one non-digit.
PASSWORD = r"^[0-9]*[^0-9][\s\S]*$"  # noqa: S105  (a pattern, not a password)


def _opt(**kwargs):
    """A PATCH field: may be omitted, may not be null."""
    return Field(None, **kwargs)


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    name_zh_hans: str
    name_zh_hant: str
    is_active: bool
    version: int


class DepartmentIn(StrictSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=CODE)
    name_en: str = Field(..., min_length=1, max_length=100)
    name_zh_hans: str = Field(..., min_length=1, max_length=100)
    name_zh_hant: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    is_active: bool = True


class DepartmentPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    name_en: str = _opt(min_length=1, max_length=100)
    name_zh_hans: str = _opt(min_length=1, max_length=100)
    name_zh_hant: str = _opt(min_length=1, max_length=100)
    description: str = _opt(max_length=2000)
    is_active: bool = _opt()


class TeamOut(Schema):
    id: int
    name: str
    department_id: int
    leader_id: int | None
    is_active: bool
    version: int


class TeamIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=100)
    department_id: JsonInt
    leader_id: JsonInt | None = None


class TeamPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    name: str = _opt(min_length=1, max_length=100)
    department_id: JsonInt = _opt()
    leader_id: JsonInt | None = None
    is_active: bool = _opt()


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


class UserIn(StrictSchema):
    username: str = Field(..., min_length=2, max_length=64, pattern=USERNAME)
    password: str | None = Field(None, min_length=10, max_length=128, pattern=PASSWORD)
    name: str = Field("", max_length=100)
    email: str = Field("", max_length=254, pattern=EMAIL)
    mobile: str = Field("", max_length=16, pattern=MOBILE)
    department_id: JsonInt | None = None
    team_id: JsonInt | None = None
    role_id: JsonInt | None = None
    language: Language = ""
    time_zone: TimeZone = ""


class UserPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    name: str = _opt(max_length=100)
    email: str = _opt(max_length=254, pattern=EMAIL)
    mobile: str = _opt(max_length=16, pattern=MOBILE)
    department_id: JsonInt | None = None
    team_id: JsonInt | None = None
    role_id: JsonInt | None = None
    language: Language = _opt()
    time_zone: TimeZone = _opt()


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


class TokenIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=100)
    days: JsonInt = Field(
        None,
        ge=0,
        le=3650,
        description="Days until it expires; 0: never; omitted: the server default.",
    )


class TokenCreated(TokenOut):
    token: str

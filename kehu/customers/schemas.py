"""API shapes for customers."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.api import JsonDate, JsonDateTime, JsonInt, StrictSchema
from kehu.customers.choices import Channel, Gender, Kind, Size, Source, Stage, Tier

KindT = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
StageT = Literal[tuple(Stage.values)]  # type: ignore[valid-type]
TierT = Literal[tuple(Tier.values)]  # type: ignore[valid-type]
GenderT = Literal[tuple(Gender.values)]  # type: ignore[valid-type]
SourceT = Literal[tuple(Source.values)]  # type: ignore[valid-type]
SizeT = Literal[tuple(Size.values)]  # type: ignore[valid-type]
# A phone as people type it: digits with an optional +, spaces, dashes or brackets.
PHONE = r"^(\+?[0-9][0-9 ()-]{5,24})?$"
EMAIL = (
    r"^([A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})?$"
)
CREDIT_CODE = r"^([0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18})?$"


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    company: str
    credit_code: str
    industry: str
    size: str
    mobile: str
    phone: str
    email: str
    wechat: str
    province: str
    city: str
    district: str
    street: str
    address_text: str
    birthday: date | None
    gender: str
    source: str
    referrer_id: int | None
    notes: str
    owner_id: int | None
    team_id: int | None
    department_id: int | None
    stage: str
    tier: str
    tier_reason: str
    tags: list[str]
    last_contact_at: datetime | None
    verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return sorted(t.name for t in obj.tags.all())


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class _Fields(StrictSchema):
    kind: KindT = Kind.INDIVIDUAL
    company: str = Field("", max_length=200)
    credit_code: str = Field("", pattern=CREDIT_CODE)
    industry: str = Field("", max_length=100)
    size: SizeT = ""
    mobile: str = Field("", max_length=32, pattern=PHONE)
    phone: str = Field("", max_length=32, pattern=PHONE)
    email: str = Field("", max_length=254, pattern=EMAIL)
    wechat: str = Field("", max_length=64)
    province: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    district: str = Field("", max_length=50)
    street: str = Field("", max_length=200)
    address_text: str = Field("", max_length=2000)
    birthday: JsonDate | None = None
    gender: GenderT = ""
    source: SourceT = ""
    notes: str = Field("", max_length=10_000)
    stage: StageT = Stage.PROSPECT
    tier: TierT = Tier.ORDINARY
    tier_reason: str = Field("", max_length=200)
    tags: list[str] = Field([], max_length=50)


class CustomerIn(_Fields):
    name: str = Field(..., min_length=1, max_length=200)


class CustomerPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    kind: KindT = Field(None)
    name: str = Field(None, min_length=1, max_length=200)
    company: str = Field(None, max_length=200)
    credit_code: str = Field(None, pattern=CREDIT_CODE)
    industry: str = Field(None, max_length=100)
    size: SizeT = Field(None)
    mobile: str = Field(None, max_length=32, pattern=PHONE)
    phone: str = Field(None, max_length=32, pattern=PHONE)
    email: str = Field(None, max_length=254, pattern=EMAIL)
    wechat: str = Field(None, max_length=64)
    province: str = Field(None, max_length=50)
    city: str = Field(None, max_length=50)
    district: str = Field(None, max_length=50)
    street: str = Field(None, max_length=200)
    address_text: str = Field(None, max_length=2000)
    birthday: JsonDate | None = None
    gender: GenderT = Field(None)
    source: SourceT = Field(None)
    notes: str = Field(None, max_length=10_000)
    stage: StageT = Field(None)
    tier: TierT = Field(None)
    tier_reason: str = Field(None, max_length=200)
    tags: list[str] = Field(None, max_length=50)


class ReasonIn(StrictSchema):
    reason: str = Field(..., min_length=1, max_length=200)


class TransferIn(StrictSchema):
    customer_ids: list[JsonInt] = Field(..., min_length=1, max_length=10_000)
    to_user_id: JsonInt
    reason: str = Field(..., min_length=1, max_length=200)


class TransferOut(Schema):
    moved: int


class ChangeOut(Schema):
    id: int
    changed_at: datetime
    actor_id: int | None
    field: str
    old_value: str
    new_value: str


class InteractionOut(Schema):
    id: int
    channel: str
    happened_at: datetime
    summary: str
    outcome: str
    next_step: str
    next_step_due: date | None
    next_step_done: bool
    author_id: int | None


class InteractionIn(StrictSchema):
    channel: Literal[tuple(Channel.values)]  # type: ignore[valid-type]
    summary: str = Field(..., min_length=1, max_length=10_000, pattern=r"\S")
    happened_at: JsonDateTime | None = Field(None, description="Default: now. Not in the future.")
    outcome: str = Field("", max_length=200)
    next_step: str = Field("", max_length=200)
    next_step_due: JsonDate | None = Field(None, description="Needs a next_step.")

"""API shapes for saved filters and exports of the customer list."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.api import JsonDate, JsonInt, StrictSchema
from kehu.customers.exports import DEFAULT_COLUMNS
from kehu.customers.filtering import DEFAULT_SORT, SORTS
from kehu.customers.schemas import SourceT, StageT, TierT

SortT = Literal[tuple(SORTS)]  # type: ignore[valid-type]


class SavedFilterOut(Schema):
    id: int
    name: str
    query_string: str = Field(
        ..., description="The list's query string, e.g. `stage=active&city=%E6%9D%AD%E5%B7%9E`."
    )
    created_at: datetime

    @staticmethod
    def resolve_query_string(obj) -> str:
        return obj.query


class SavedFilterIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=100, pattern=r"\S")
    query_string: str = Field(
        "",
        max_length=1000,
        description=(
            "A query string of the customer list. Only the known filter parameters are kept "
            "(q, owner, team, stage, tier, source, tag, province, city, district, "
            "created_from, created_to, contact_from, contact_to, stale, sort); a bad value of "
            "one of them is refused (422). A filter of the same name is replaced."
        ),
    )


class ExportFiltersIn(StrictSchema):
    q: str = Field("", max_length=100)
    owner_id: JsonInt | None = Field(None, ge=1)
    team_id: JsonInt | None = Field(None, ge=1)
    stage: StageT | None = None
    tier: TierT | None = None
    source: SourceT | None = None
    tag: str = Field("", max_length=50)
    province: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    district: str = Field("", max_length=50)
    created_from: JsonDate | None = None
    created_to: JsonDate | None = None
    contact_from: JsonDate | None = None
    contact_to: JsonDate | None = None
    stale_only: bool = False
    sort: SortT = DEFAULT_SORT


class ExportIn(StrictSchema):
    format: Literal["csv", "xlsx"]
    columns: list[str] = Field(
        list(DEFAULT_COLUMNS),
        min_length=1,
        max_length=100,
        description=(
            "Column keys in order: id, name, kind, company, credit_code, industry, size, "
            "mobile, phone, email, wechat, id_number, province, city, district, street, "
            "address_text, birthday, gender, source, referrer, tags, notes, owner, team, "
            "stage, tier, tier_reason, last_contact_at, verified_at, created_at, updated_at, "
            "and `custom.<key>` for each active custom field."
        ),
    )
    reveal: bool = Field(
        False,
        description="Unmasked mobile, phone, ID number and addresses: only with "
        "`customers.reveal`, and recorded in the audit event.",
    )
    filters: ExportFiltersIn = Field(default_factory=ExportFiltersIn)

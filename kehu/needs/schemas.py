"""API shapes for customer needs."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.api import JsonInt, StrictSchema
from kehu.needs.choices import (
    DecisionFactor,
    NeedDomain,
    NeedNature,
    NeedSource,
    NeedStatus,
    Priority,
)

DomainT = Literal[tuple(NeedDomain.values)]  # type: ignore[valid-type]
NatureT = Literal[tuple(NeedNature.values)]  # type: ignore[valid-type]
FactorT = Literal[tuple(DecisionFactor.values)]  # type: ignore[valid-type]
SourceT = Literal[tuple(NeedSource.values)]  # type: ignore[valid-type]
PriorityT = Literal[tuple(Priority.values)]  # type: ignore[valid-type]
StatusT = Literal[tuple(NeedStatus.values)]  # type: ignore[valid-type]
# Filters: empty for any; for the factor, "none" means "not about a decision factor".
DomainFilterT = Literal[("", *NeedDomain.values)]  # type: ignore[valid-type]
NatureFilterT = Literal[("", *NeedNature.values)]  # type: ignore[valid-type]
FactorFilterT = Literal[("", "none", *(v for v in DecisionFactor.values if v))]  # type: ignore[valid-type]
SourceFilterT = Literal[("", *NeedSource.values)]  # type: ignore[valid-type]
PriorityFilterT = Literal[("", *Priority.values)]  # type: ignore[valid-type]
StatusFilterT = Literal[("", *NeedStatus.values)]  # type: ignore[valid-type]
# A title must hold something besides spaces.
TITLE = r"\S"


class NeedOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    title: str
    description: str
    domain: str
    nature: str
    factor: str
    source: str
    priority: str
    status: str
    author_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class NeedPage(Schema):
    items: list[NeedOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class NeedIn(StrictSchema):
    title: str = Field(..., min_length=1, max_length=200, pattern=TITLE)
    description: str = Field("", max_length=10_000)
    domain: DomainT = Field(..., description="Production (生产) or living (生活) need.")
    nature: NatureT = Field(
        ..., description="Material (物质) or spiritual and cultural (精神文化)."
    )
    factor: FactorT = Field("", description="The purchase-decision factor it is about, if any.")
    source: SourceT = Field(..., description="Where the need was learnt.")
    priority: PriorityT = Priority.MEDIUM
    status: StatusT = NeedStatus.OPEN


class NeedPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1)
    title: str = Field(None, min_length=1, max_length=200, pattern=TITLE)
    description: str = Field(None, max_length=10_000)
    domain: DomainT = Field(None)
    nature: NatureT = Field(None)
    factor: FactorT = Field(None)
    source: SourceT = Field(None)
    priority: PriorityT = Field(None)
    status: StatusT = Field(None)


class CountOut(Schema):
    value: str
    label: str
    count: int


class DomainNatureCountOut(Schema):
    domain: str
    domain_label: str
    nature: str
    nature_label: str
    count: int


class NeedSummaryOut(Schema):
    total: int
    by_domain_nature: list[DomainNatureCountOut]
    by_factor: list[CountOut]
    by_source: list[CountOut]
    by_status: list[CountOut]


class NeedFilterQuery(Schema):
    """The filters of the needs list and its summary (query parameters)."""

    q: str = Field("", max_length=100, description="Customer: name, pinyin, phone, tag …")
    customer_id: int | None = Field(None, ge=1, le=2**63 - 1)
    domain: DomainFilterT = ""
    nature: NatureFilterT = ""
    factor: FactorFilterT = Field("", description="`none`: not about a decision factor.")
    source: SourceFilterT = ""
    priority: PriorityFilterT = ""
    status: StatusFilterT = ""

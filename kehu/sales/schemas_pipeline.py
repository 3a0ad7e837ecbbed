"""API shapes of the pipeline: stages, opportunities (商机) and the board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.api import JsonDate, JsonInt, StrictSchema
from kehu.sales.choices import OpportunityStatus
from kehu.sales.schemas import MAX_ID, IdIn, MoneyIn, MoneyOut

StatusFilterT = Literal[("", *OpportunityStatus.values)]  # type: ignore[valid-type]


class StageOut(Schema):
    id: int
    name: str = Field(..., description="In the reader's language.")
    name_en: str
    name_zh_hans: str
    name_zh_hant: str
    position: int
    probability: int = Field(..., description="Win probability in per cent.")
    is_active: bool


class StageIn(StrictSchema):
    name_en: str = Field("", max_length=100)
    name_zh_hans: str = Field("", max_length=100)
    name_zh_hant: str = Field("", max_length=100)
    probability: JsonInt = Field(10, ge=0, le=100)
    position: JsonInt | None = Field(None, ge=0, le=1000, description="Default: last.")
    is_active: bool = True


class StagePatch(StrictSchema):
    name_en: str = Field(None, max_length=100)
    name_zh_hans: str = Field(None, max_length=100)
    name_zh_hant: str = Field(None, max_length=100)
    probability: JsonInt = Field(None, ge=0, le=100)
    position: JsonInt = Field(None, ge=0, le=1000)
    is_active: bool = Field(None, description="A retired stage takes no new opportunities.")


class OpportunityOut(Schema):
    id: int
    title: str
    customer_id: int
    customer_name: str
    stage_id: int
    stage_name: str
    probability: int
    amount: MoneyOut
    weighted_amount: MoneyOut = Field(..., description="Amount × the stage's probability.")
    expected_close: date | None
    status: str
    closed_at: datetime | None
    lost_reason: str
    notes: str
    order_id: int | None = Field(..., description="The order created when it was won.")
    contract_id: int | None = Field(..., description="The contract created when it was won.")
    owner_id: int | None
    team_id: int | None
    department_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_stage_name(obj) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_probability(obj) -> int:
        return obj.stage.probability


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class OpportunityIn(StrictSchema):
    customer_id: IdIn
    title: str = Field(..., min_length=1, max_length=200, pattern=r"\S")
    amount: MoneyIn = Field(..., description="The expected value.")
    stage_id: IdIn | None = Field(None, description="Default: the first active stage.")
    expected_close: JsonDate | None = None
    notes: str = Field("", max_length=5000)
    owner_id: IdIn | None = Field(None, description="Credit to a colleague; default: you.")


class OpportunityPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    title: str = Field(None, min_length=1, max_length=200, pattern=r"\S")
    amount: MoneyIn = Field(None)
    expected_close: JsonDate | None = None
    notes: str = Field(None, max_length=5000)
    owner_id: IdIn = Field(None)


class MoveIn(StrictSchema):
    stage_id: IdIn
    version: JsonInt = Field(..., ge=1, le=MAX_ID)


class WinIn(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    create: Literal["", "order", "contract"] = Field(
        "", description="Also record an order (one line of the amount) or a draft contract."
    )


class LoseIn(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    reason: str = Field(..., min_length=1, max_length=200, pattern=r"\S")


class OpportunityFilterQuery(Schema):
    q: str = Field("", max_length=100, description="Title, or the customer.")
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    stage_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: StatusFilterT = Field("open", description="Empty for all.")


class BoardFilterQuery(Schema):
    q: str = Field("", max_length=100, description="Title, or the customer.")
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)


class BoardColumnOut(Schema):
    stage: StageOut
    count: int
    amount: MoneyOut
    weighted: MoneyOut = Field(..., description="Amount × the stage's probability.")
    cards: list[OpportunityOut] = Field(..., description="Soonest expected close first.")

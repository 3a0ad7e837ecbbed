"""API shapes of sales plans and quotas (销售计划/销售定额) and their attainment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from kehu.core.api import IsoDate, JsonDate, JsonInt, StrictSchema
from kehu.sales.choices import QuotaPeriod
from kehu.sales.schemas import MAX_ID, IdIn, MoneyIn, MoneyOut, PercentOut

PeriodT = Literal[tuple(QuotaPeriod.values)]  # type: ignore[valid-type]
PeriodFilterT = Literal[("", *QuotaPeriod.values)]  # type: ignore[valid-type]


class QuotaOut(Schema):
    id: int
    user_id: int | None = Field(..., description="A person's quota; null for a team's.")
    team_id: int | None
    label: str = Field(..., description="The person's or the team's name.")
    period: str
    starts_on: date
    amount: MoneyOut = Field(..., description="The sales target.")
    new_customers: int | None = Field(..., description="The new-customer target, if any.")
    notes: str
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_label(obj) -> str:
        if obj.user_id:
            return obj.user.name or obj.user.username
        return obj.team.name if obj.team_id else ""


class QuotaPage(Schema):
    items: list[QuotaOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class QuotaIn(StrictSchema):
    user_id: IdIn | None = Field(None, description="A person — or a team, not both.")
    team_id: IdIn | None = None
    period: PeriodT
    starts_on: JsonDate = Field(..., description="Any day of the period; its first is kept.")
    amount: MoneyIn
    new_customers: JsonInt | None = Field(None, ge=0, le=1_000_000)
    notes: str = Field("", max_length=200)


class QuotaPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    amount: MoneyIn = Field(None)
    new_customers: JsonInt | None = Field(None, ge=0, le=1_000_000)
    notes: str = Field(None, max_length=200)


class QuotaFilterQuery(Schema):
    period: PeriodFilterT = ""
    starts_on: IsoDate | None = Field(None, description="Quotas of the period containing it.")
    user_id: int | None = Field(None, ge=1, le=MAX_ID)
    team_id: int | None = Field(None, ge=1, le=MAX_ID)


class AttainmentRowOut(Schema):
    quota: QuotaOut
    label: str
    actual: MoneyOut = Field(..., description="Confirmed orders in the period, net of refunds.")
    new_customers: int = Field(..., description="Customers whose first order is in the period.")
    percent: PercentOut
    new_customers_percent: PercentOut
    rank: int | None = Field(..., description="Among people, by attainment (1 = best).")


class AttainmentOut(Schema):
    period: str
    starts_on: date
    ends_on: date = Field(..., description="The last day of the period.")
    rows: list[AttainmentRowOut]


class TrendMonthOut(Schema):
    month: date = Field(..., description="The first day of the month.")
    amount: MoneyOut


class TrendOut(Schema):
    user_id: int | None
    team_id: int | None
    months: list[TrendMonthOut]

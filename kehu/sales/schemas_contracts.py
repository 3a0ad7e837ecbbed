"""API shapes of contracts (合同) and their attachments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from django.urls import reverse
from ninja import Field, Schema

from kehu.core.api import IsoDate, JsonDate, JsonInt, StrictSchema
from kehu.sales.choices import ContractStatus, RenewalType
from kehu.sales.schemas import MAX_ID, IdIn, MoneyIn, MoneyOut

RenewalT = Literal[tuple(RenewalType.values)]  # type: ignore[valid-type]
StatusFilterT = Literal[("", *ContractStatus.values)]  # type: ignore[valid-type]
TEXT = r"\S"


class ContractOut(Schema):
    id: int
    number: str
    title: str
    customer_id: int
    customer_name: str
    parties: str
    signed_on: date | None
    starts_on: date
    ends_on: date
    value: MoneyOut
    currency: str
    payment_terms: str
    delivery_terms: str
    transaction_rules: str
    default_liability: str = Field(..., description="Liability for default (违约责任).")
    renewal: str
    status: str
    remind_days: int
    remind_on: date = Field(..., description="The day the end reminder is due.")
    reminded_at: datetime | None
    renewed_from_id: int | None = Field(..., description="The contract this one renews.")
    owner_id: int | None
    team_id: int | None
    department_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class ContractPage(Schema):
    items: list[ContractOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class _Terms(StrictSchema):
    parties: str = Field("", max_length=2000)
    signed_on: JsonDate | None = None
    payment_terms: str = Field("", max_length=10_000)
    delivery_terms: str = Field("", max_length=10_000)
    transaction_rules: str = Field("", max_length=10_000)
    default_liability: str = Field("", max_length=10_000, description="违约责任.")
    renewal: RenewalT = RenewalType.MANUAL
    remind_days: JsonInt = Field(30, ge=0, le=365, description="Remind the owner this early.")


class ContractIn(_Terms):
    customer_id: IdIn
    title: str = Field(..., min_length=1, max_length=200, pattern=TEXT)
    starts_on: JsonDate
    ends_on: JsonDate
    value: MoneyIn
    number: str = Field("", max_length=64, description="Default: HT-00000042.")
    status: Literal["draft", "active"] = ContractStatus.DRAFT
    owner_id: IdIn | None = Field(None, description="Credit to a colleague; default: you.")


class ContractPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    title: str = Field(None, min_length=1, max_length=200, pattern=TEXT)
    parties: str = Field(None, max_length=2000)
    signed_on: JsonDate | None = None
    starts_on: JsonDate = Field(None)
    ends_on: JsonDate = Field(None)
    value: MoneyIn = Field(None)
    payment_terms: str = Field(None, max_length=10_000)
    delivery_terms: str = Field(None, max_length=10_000)
    transaction_rules: str = Field(None, max_length=10_000)
    default_liability: str = Field(None, max_length=10_000)
    renewal: RenewalT = Field(None)
    remind_days: JsonInt = Field(None, ge=0, le=365)
    owner_id: IdIn = Field(None)


class ContractStatusIn(StrictSchema):
    status: Literal["active", "terminated"] = Field(
        ..., description="Activate a draft, or terminate early (with a reason)."
    )
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    reason: str = Field("", max_length=200)


class ContractFilterQuery(Schema):
    q: str = Field("", max_length=100, description="Number, title, or the customer.")
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: StatusFilterT = ""
    ending_before: IsoDate | None = Field(None, description="Ends on this day or earlier.")
    expired_not_renewed: bool = Field(False, description="Only expired contracts not renewed.")


class AttachmentOut(Schema):
    id: int
    contract_id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj) -> str:
        return reverse("api:download_contract_attachment", kwargs={"attachment_id": obj.pk})

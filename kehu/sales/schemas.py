"""API shapes of the sales app: the number types, the catalogue and orders.

Money, quantities and tax rates are exact decimals. They leave as JSON strings
("1280.50", never a binary float) and are accepted as strings or numbers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import BeforeValidator, Strict, WithJsonSchema

from kehu.core.api import IsoDate, JsonDateTime, JsonInt, StrictSchema
from kehu.sales.choices import (
    DeliveryStatus,
    OrderChannel,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from kehu.sales.money import MAX_AMOUNT, to_decimal

MAX_ID = 2**63 - 1
CURRENCIES = ("CNY", "HKD", "TWD", "MOP", "USD", "EUR")

# --- exact numbers ----------------------------------------------------------------------


def _decimal_in(
    places: int, maximum: Decimal, message: Any, *, below: bool = False, positive: bool = False
):
    step = Decimal(1).scaleb(-places)

    def check(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise ValueError(str(message()))
        try:
            number = to_decimal(value)
        except ValueError:
            raise ValueError(str(message())) from None
        too_big = number >= maximum if below else number > maximum
        too_small = number <= 0 if positive else number < 0
        if too_small or too_big or number != number.quantize(step):
            raise ValueError(str(message()))
        return number

    return check


def _decimal_type(
    places: int,
    maximum: Decimal,
    message: Any,
    example: str,
    *,
    below: bool = False,
    positive: bool = False,
):
    digits = len(str(int(maximum))) if not below else 1
    if positive:
        # Greater than zero: a whole part from 1, or a fraction with a non-zero digit.
        fractions = "|".join(
            "0" * k + "[1-9]" + (f"[0-9]{{0,{places - 1 - k}}}" if places - 1 - k else "")
            for k in range(places)
        )
        pattern = rf"^([1-9][0-9]{{0,{digits - 1}}}(\.[0-9]{{1,{places}}})?|0?\.({fractions}))$"
        number: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}
    else:
        pattern = rf"^[0-9]{{1,{digits}}}(\.[0-9]{{1,{places}}})?$"
        number = {"type": "number", "minimum": 0}
    number["exclusiveMaximum" if below else "maximum"] = float(maximum)
    return Annotated[
        Decimal,
        Strict(False),
        BeforeValidator(_decimal_in(places, maximum, message, below=below, positive=positive)),
        WithJsonSchema(
            {
                "anyOf": [{"type": "string", "pattern": pattern}, number],
                "examples": [example],
            }
        ),
    ]


MoneyIn = _decimal_type(
    2, MAX_AMOUNT, lambda: _("Enter an amount such as 1280.50 (at most two decimals)."), "1280.50"
)
PositiveMoneyIn = _decimal_type(
    2,
    MAX_AMOUNT,
    lambda: _("Enter an amount greater than zero, such as 1280.50."),
    "1280.50",
    positive=True,
)
QuantityIn = _decimal_type(
    3,
    Decimal("99999999999.999"),
    lambda: _("Enter a quantity greater than zero, with at most three decimals."),
    "2",
    positive=True,
)
RateIn = _decimal_type(
    4, Decimal(1), lambda: _("Enter a tax rate such as 0.13."), "0.13", below=True
)


def _text_of(places: int):
    def render(value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))

    return render


def _decimal_out(places: int, description: str):
    return Annotated[
        str,
        BeforeValidator(_text_of(places)),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": rf"^-?[0-9]+\.[0-9]{{{places}}}$",
                "description": description,
            }
        ),
    ]


MoneyOut = _decimal_out(2, 'An exact amount as a decimal string, e.g. "1280.50".')
QuantityOut = _decimal_out(3, 'An exact quantity as a decimal string, e.g. "2.000".')
RateOut = _decimal_out(4, 'A tax rate as a decimal string: "0.1300" is 13 %.')
PercentOut = Annotated[
    str | None,
    BeforeValidator(_text_of(1)),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^-?[0-9]+\.[0-9]$"}, {"type": "null"}],
            "description": "Per cent with one decimal; null when there is no target.",
        }
    ),
]
IdIn = Annotated[JsonInt, Field(ge=1, le=MAX_ID)]
Cursor = "`next_cursor` of the previous page."

ChannelT = Literal[tuple(OrderChannel.values)]  # type: ignore[valid-type]
DeliveryT = Literal[tuple(DeliveryStatus.values)]  # type: ignore[valid-type]
MethodT = Literal[tuple(PaymentMethod.values)]  # type: ignore[valid-type]
CurrencyT = Literal[CURRENCIES]  # type: ignore[valid-type]
ChannelFilterT = Literal[("", *OrderChannel.values)]  # type: ignore[valid-type]
OrderStatusFilterT = Literal[("", *OrderStatus.values)]  # type: ignore[valid-type]
PaymentFilterT = Literal[("", *PaymentStatus.values)]  # type: ignore[valid-type]
DeliveryFilterT = Literal[("", *DeliveryStatus.values)]  # type: ignore[valid-type]


# --- catalogue --------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    code: str
    name: str = Field(..., description="In the reader's language.")
    name_en: str
    name_zh_hans: str
    name_zh_hant: str
    category: str
    unit: str
    list_price: MoneyOut
    tax_rate: RateOut
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class _ProductFields(StrictSchema):
    name_en: str = Field("", max_length=100)
    name_zh_hans: str = Field("", max_length=100)
    name_zh_hant: str = Field("", max_length=100)
    category: str = Field("", max_length=100)
    unit: str = Field("", max_length=20)
    tax_rate: RateIn = Field(Decimal(0), description="0.13 is 13 % VAT.")
    is_active: bool = True


class ProductIn(_ProductFields):
    code: str = Field(..., min_length=1, max_length=50, pattern=r"\S")
    list_price: MoneyIn = Field(..., description="Tax included, as on the price tag.")


class ProductPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    code: str = Field(None, min_length=1, max_length=50, pattern=r"\S")
    name_en: str = Field(None, max_length=100)
    name_zh_hans: str = Field(None, max_length=100)
    name_zh_hant: str = Field(None, max_length=100)
    category: str = Field(None, max_length=100)
    unit: str = Field(None, max_length=20)
    list_price: MoneyIn = Field(None)
    tax_rate: RateIn = Field(None)
    is_active: bool = Field(None)


# --- orders -----------------------------------------------------------------------------


class OrderLineIn(StrictSchema):
    product_id: IdIn | None = Field(None, description="A product of the catalogue …")
    product_code: str | None = Field(None, max_length=50, description="… or its code …")
    description: str = Field("", max_length=200, description="… or a description of the item.")
    quantity: QuantityIn = Field(Decimal(1))
    unit_price: MoneyIn | None = Field(None, description="Default: the product's list price.")
    discount: MoneyIn = Field(Decimal(0), description="Off the whole line.")
    tax_rate: RateIn | None = Field(None, description="Default: the product's rate (or 0).")


class PaymentIn(StrictSchema):
    amount: PositiveMoneyIn
    method: MethodT = PaymentMethod.WECHAT_PAY
    paid_at: JsonDateTime | None = Field(None, description="Default: now.")
    reference: str = Field("", max_length=100)


class RefundIn(StrictSchema):
    amount: PositiveMoneyIn
    reason: str = Field(..., min_length=1, max_length=200, pattern=r"\S")
    goods_returned: bool = False
    refunded_at: JsonDateTime | None = Field(None, description="Default: now.")


class OrderIn(StrictSchema):
    customer_id: IdIn | None = Field(
        None, description="null: an anonymous consumer (a walk-in, 顾客); see consumer_label."
    )
    consumer_label: str = Field(
        "", max_length=100, description="What is known of an anonymous consumer."
    )
    number: str = Field("", max_length=64, description="Default: SO-00000042.")
    ordered_at: JsonDateTime | None = Field(None, description="Default: now.")
    channel: ChannelT = OrderChannel.STORE
    currency: CurrencyT = "CNY"
    prices_include_tax: bool = True
    delivery_status: DeliveryT = DeliveryStatus.PENDING
    notes: str = Field("", max_length=5000)
    owner_id: IdIn | None = Field(None, description="Credit to a colleague; default: you.")
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=500)
    payments: list[PaymentIn] = Field([], max_length=20, description="Money received with it.")


class OrderPatch(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    ordered_at: JsonDateTime = Field(None)
    channel: ChannelT = Field(None)
    consumer_label: str = Field(None, max_length=100)
    delivery_status: DeliveryT = Field(None)
    notes: str = Field(None, max_length=5000)
    owner_id: IdIn = Field(None)
    lines: list[OrderLineIn] = Field(
        None, min_length=1, max_length=500, description="Replaces all lines when given."
    )


class VersionIn(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)


class LinkIn(StrictSchema):
    customer_id: IdIn
    version: JsonInt = Field(..., ge=1, le=MAX_ID)


class CancelIn(StrictSchema):
    version: JsonInt = Field(..., ge=1, le=MAX_ID)
    reason: str = Field("", max_length=200)


class OrderLineOut(Schema):
    id: int
    product_id: int | None
    description: str
    quantity: QuantityOut
    unit_price: MoneyOut
    discount: MoneyOut
    tax_rate: RateOut
    net: MoneyOut
    tax: MoneyOut
    total: MoneyOut


class PaymentOut(Schema):
    id: int
    amount: MoneyOut
    method: str
    paid_at: datetime
    reference: str
    recorded_by_id: int | None


class RefundOut(Schema):
    id: int
    amount: MoneyOut
    reason: str
    goods_returned: bool
    refunded_at: datetime
    recorded_by_id: int | None


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int | None = Field(..., description="null: an anonymous consumer.")
    customer_name: str
    consumer_label: str
    ordered_at: datetime
    channel: str
    status: str
    currency: str
    prices_include_tax: bool
    subtotal: MoneyOut
    discount_total: MoneyOut
    tax_total: MoneyOut
    total: MoneyOut
    paid_total: MoneyOut
    refunded_total: MoneyOut
    outstanding: MoneyOut
    payment_status: str
    delivery_status: str
    notes: str
    owner_id: int | None
    team_id: int | None
    department_id: int | None
    contract_id: int | None
    linked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name if obj.customer_id else ""


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]
    payments: list[PaymentOut]
    refunds: list[RefundOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj) -> list:
        return list(obj.payments.all())

    @staticmethod
    def resolve_refunds(obj) -> list:
        return list(obj.refunds.all())


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class OrderFilterQuery(Schema):
    """The filters of the order list (query parameters)."""

    q: str = Field("", max_length=100, description="Order number, consumer, or the customer.")
    customer_id: int | None = Field(None, ge=1, le=MAX_ID)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    channel: ChannelFilterT = ""
    status: OrderStatusFilterT = ""
    payment_status: PaymentFilterT = ""
    delivery_status: DeliveryFilterT = ""
    anonymous: bool | None = Field(
        None, description="true: only anonymous consumers; false: only customers."
    )
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None


class CustomerSalesOut(Schema):
    customer_id: int
    orders: int
    lifetime_total: MoneyOut = Field(..., description="Confirmed orders, net of refunds.")
    paid: MoneyOut
    outstanding: MoneyOut
    first_order_at: datetime | None
    last_order_at: datetime | None
    open_opportunities: int
    open_pipeline: MoneyOut
    active_contracts: int
    latest_orders: list[OrderOut]

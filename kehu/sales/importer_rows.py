"""The rows of an order file: the columns an importer maps, reading one row into an order
line, and resolving a batch's products, customers and salespeople with one query each.
Used by :mod:`kehu.sales.importers` (where the rules are described)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.access import scoped
from kehu.core.i18n import in_reader_language
from kehu.core.permissions import Perm
from kehu.customers.duplicates import mobile_key
from kehu.customers.masking import mask_phone
from kehu.customers.models import Customer
from kehu.dataio.registry import FieldSpec
from kehu.sales.choices import DeliveryStatus, OrderChannel, PaymentMethod
from kehu.sales.models import Product
from kehu.sales.money import LineAmounts, line_amounts
from kehu.sales.parsing import (
    ParseError,
    customer_id_from_code,
    parse_amount,
    parse_datetime,
    parse_quantity,
)

F_ = FieldSpec
FIELDS = (
    F_("number", gettext_lazy("Order number"),
       ("订单号", "订单编号", "单号", "订单号码", "单据号", "单据编号", "order no", "order number",
        "order id", "order")),
    F_("ordered_at", gettext_lazy("Order date"),
       ("日期", "下单时间", "下单日期", "订单日期", "订单时间", "销售日期", "交易时间", "交易日期",
        "成交日期", "order date", "date", "ordered at", "order time"), required=True),
    F_("customer_code", gettext_lazy("Customer number"),
       ("客户编号", "客户ID", "客户代码", "客户号", "客户编码", "customer code", "customer id",
        "customer no", "customer number")),
    F_("customer_mobile", gettext_lazy("Customer mobile"),
       ("手机", "手机号", "手机号码", "电话", "联系电话", "客户手机", "客户电话", "mobile", "phone",
        "customer phone", "customer mobile")),
    F_("customer_email", gettext_lazy("Customer email"),
       ("邮箱", "电子邮件", "电子邮箱", "客户邮箱", "email", "e-mail", "customer email")),
    F_("consumer_label", gettext_lazy("Consumer"),
       ("顾客", "散客", "消费者", "顾客名称", "客户名称", "客户姓名", "客户", "姓名", "consumer",
        "walk-in", "customer name", "customer", "name")),
    F_("channel", gettext_lazy("Channel"),
       ("渠道", "销售渠道", "下单渠道", "来源渠道", "channel", "sales channel")),
    F_("product_code", gettext_lazy("Product code"),
       ("商品编码", "货号", "商品编号", "商品代码", "产品编码", "产品编号", "产品代码", "sku",
        "product code", "item code", "item no")),
    F_("description", gettext_lazy("Description"),
       ("商品名称", "品名", "商品", "产品名称", "产品", "名称", "description", "item", "product",
        "product name")),
    F_("quantity", gettext_lazy("Quantity"), ("数量", "件数", "销量", "qty", "quantity")),
    F_("unit_price", gettext_lazy("Unit price"),
       ("单价", "售价", "价格", "销售单价", "unit price", "price")),
    F_("discount", gettext_lazy("Discount"), ("折扣", "优惠", "折扣金额", "优惠金额", "discount")),
    F_("line_total", gettext_lazy("Line total"),
       ("金额", "小计", "行金额", "总价", "合计", "销售金额", "line total", "amount", "total",
        "subtotal")),
    F_("paid", gettext_lazy("Paid"),
       ("已付", "实收", "已付金额", "实收金额", "实付", "实付金额", "付款金额", "paid",
        "amount paid")),
    F_("payment_method", gettext_lazy("Payment method"),
       ("支付方式", "付款方式", "收款方式", "payment method", "payment")),
    F_("delivery_status", gettext_lazy("Delivery"),
       ("发货状态", "配送状态", "交付状态", "delivery", "delivery status")),
    F_("owner", gettext_lazy("Salesperson"),
       ("销售", "业务员", "销售员", "销售人员", "负责人", "owner", "salesperson", "sales rep")),
    F_("notes", gettext_lazy("Notes"), ("备注", "说明", "notes", "note", "remarks", "comment")),
)  # fmt: skip
LABELS = {f.name: f.label for f in FIELDS}

SYNONYMS: dict[Any, dict[str, str]] = {
    OrderChannel: {"门店": "store", "店铺": "store", "实体店": "store", "线下": "store",
                   "到店": "store", "线上": "online", "网店": "online", "网上": "online",
                   "电商": "online", "官网": "online", "淘宝": "online", "天猫": "online",
                   "京东": "online", "电话": "phone", "电销": "phone", "地推": "field",
                   "外勤": "field", "上门": "field", "小程序": "wechat", "微信": "wechat",
                   "微信小程序": "wechat", "其他": "other"},
    PaymentMethod: {"现金": "cash", "微信": "wechat_pay", "微信支付": "wechat_pay",
                    "支付宝": "alipay", "银行卡": "card", "刷卡": "card", "信用卡": "card",
                    "转账": "transfer", "银行转账": "transfer", "对公转账": "transfer",
                    "其他": "other"},
    DeliveryStatus: {"已发货": "delivered", "已送达": "delivered", "已交付": "delivered",
                     "已完成": "delivered", "完成": "delivered", "未发货": "pending",
                     "待发货": "pending", "部分发货": "partial", "退货": "returned",
                     "已退货": "returned"},
}  # fmt: skip
ATTRIBUTE = {"consumer_label": "label", "payment_method": "method", "delivery_status": "delivery"}
CUSTOMER_COLUMNS = ("customer_code", "customer_mobile", "customer_email")
TEXT_LIMITS = {"number": 64, "consumer_label": 100, "description": 200, "notes": 2000}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def choices(enum: Any) -> dict[str, str]:
    """{lower-cased value, label in any language or synonym: value}."""
    table = {str(v).lower(): str(v) for v in enum.values}
    for language in ("en", "zh-hans", "zh-hant"):
        with translation.override(language):
            for value, label in enum.choices:
                table.setdefault(str(label).strip().lower(), str(value))
    table.update(SYNONYMS.get(enum, {}))
    return table


@lru_cache(maxsize=100_000)
def mobile(raw: str) -> str:
    """The ``mobile_digits`` a customer with this mobile is stored under."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        return digits
    if len(digits) == 13 and digits.startswith("861"):
        return digits[2:]
    return mobile_key(raw)


def masked(digits: str) -> str:
    """An anonymous consumer's label from their mobile: 138****5678."""
    return mask_phone(f"+86{digits}" if len(digits) == 11 else digits)


@dataclass(slots=True)
class Line:
    row: int
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    number: str = ""
    ordered_at: Any = None
    customer_id: int | None = None
    mobile: str = ""
    email: str = ""
    label: str = ""
    channel: str = "other"
    product_code: str = ""
    description: str = ""
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    discount: Decimal = Decimal(0)
    line_total: Decimal | None = None
    paid: Decimal | None = None
    method: str = "other"
    delivery: str = "delivered"  # historical orders: delivered unless the file says
    owner: str = ""
    notes: str = ""
    # Resolved against the database.
    product_id: int | None = None
    tax_rate: Decimal = Decimal(0)
    amounts: LineAmounts | None = None
    customer: int | None = None
    user: Any = None


@dataclass
class State:
    actor: Any
    unmatched: str
    tz: Any
    columns: dict[str, str]
    choices: dict[Any, dict[str, str]]
    file_key: str
    products: dict[str, tuple | None] = field(default_factory=dict)
    owners: dict[str, Any] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # dry run: orders "created" earlier
    failed: set[str] = field(default_factory=set)  # orders with a line rejected


def parse_row(row: int, values: dict[str, str], state: State) -> Line:
    line = Line(row, values)
    errors = line.errors
    get = values.get
    for name, limit in TEXT_LIMITS.items():
        value = text(get(name, ""))
        if len(value) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
        setattr(line, ATTRIBUTE.get(name, name), value)
    line.number = line.number or f"IMP-{state.file_key}-{row}"
    try:
        moment = parse_datetime(get("ordered_at"))
        if moment is None:
            errors["ordered_at"] = _("Enter the order date.")
        else:
            line.ordered_at = moment if moment.tzinfo else moment.replace(tzinfo=state.tz)
    except ParseError as exc:
        errors["ordered_at"] = str(exc)
    for name in ("unit_price", "discount", "line_total", "paid"):
        try:
            value = parse_amount(get(name))
        except ParseError as exc:
            errors[name] = str(exc)
            continue
        if value is not None:
            setattr(line, name, value)
    if "quantity" in values:  # not mapped: one of each
        try:
            quantity = parse_quantity(values["quantity"])
            if quantity is None:
                errors["quantity"] = _("Enter a quantity such as 3 or 2.5.")
            else:
                line.quantity = quantity
        except ParseError as exc:
            errors["quantity"] = str(exc)
    code = text(get("customer_code", ""))
    if code:
        line.customer_id = customer_id_from_code(code)
    line.mobile = mobile(text(get("customer_mobile", "")))
    line.email = text(get("customer_email", "")).lower()
    line.product_code = text(get("product_code", ""))
    line.owner = text(get("owner", ""))
    for name, enum in (
        ("channel", OrderChannel),
        ("payment_method", PaymentMethod),
        ("delivery_status", DeliveryStatus),
    ):
        raw = text(get(name, ""))
        if not raw:
            continue
        value = state.choices[enum].get(raw.lower())
        if value is None:
            if name == "delivery_status":
                errors[name] = _("Not one of the choices.")
                continue
            note = _("%(column)s: %(value)s") % {"column": state.columns[name], "value": raw}
            line.notes = "\n".join(p for p in (line.notes, note[:200]) if p)
            value = "other"
        setattr(line, ATTRIBUTE.get(name, name), value)
    return line


def resolve(lines: list[Line], state: State) -> None:
    """Products, customers and owners of the batch (one query per kind), then the
    amounts of each line."""
    _products(lines, state)
    _customers(lines, state)
    _owners(lines, state)
    for line in lines:
        if line.customer is None and line.mobile and not line.label:
            line.label = masked(line.mobile)
        if line.errors:
            continue
        errors = line.errors
        product = state.products.get(line.product_code) if line.product_code else None
        if line.product_code and product is None:
            errors["product_code"] = _("Unknown product code.")
            continue
        if product is not None:
            line.product_id, list_price, line.tax_rate, name = product
            line.description = line.description or name
        elif not line.description:
            errors["description"] = _("Enter a product code or a description.")
            continue
        if line.unit_price is None:
            if product is not None:
                line.unit_price = list_price
            elif line.line_total is not None:
                line.unit_price = (line.line_total + line.discount) / line.quantity
                if line.unit_price != line.unit_price.quantize(Decimal("0.01")):
                    errors["unit_price"] = _("Enter the unit price.")
                    continue
            else:
                errors["unit_price"] = _("Enter the unit price.")
                continue
        try:
            amounts = line_amounts(
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                tax_rate=line.tax_rate,
            )
        except ValueError:
            errors["discount"] = _("The discount cannot exceed the line amount.")
            continue
        if line.line_total is not None and line.line_total != amounts.total:
            errors["line_total"] = _(
                "%(total)s is not quantity × unit price − discount (%(expected)s)."
            ) % {"total": line.line_total, "expected": amounts.total}
            continue
        line.amounts = amounts


def _products(lines: list[Line], state: State) -> None:
    missing = {ln.product_code for ln in lines if ln.product_code} - set(state.products)
    if not missing:
        return
    found = Product.objects.filter(code__in=missing).values_list(
        "code", "pk", "list_price", "tax_rate", "name_en", "name_zh_hans", "name_zh_hant"
    )
    for code, pk, price, rate, en, hans, hant in found:
        state.products[code] = (pk, price, rate, in_reader_language(en, hans, hant))
    for code in missing:
        state.products.setdefault(code, None)


def _customers(lines: list[Line], state: State) -> None:
    visible = scoped(state.actor, Perm.VIEW_CUSTOMERS, Customer).filter(merged_into__isnull=True)
    ids = {ln.customer_id for ln in lines if ln.customer_id}
    known = set(visible.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for line in lines:
        if line.customer_id in known:
            line.customer = line.customer_id
    for key, column in (("mobile", "mobile_digits"), ("email", "email_lower")):
        wanted = {getattr(ln, key) for ln in lines if ln.customer is None and getattr(ln, key)}
        if not wanted:
            continue
        found: dict[str, int] = {}
        for value, pk in (
            visible.filter(**{f"{column}__in": wanted}).order_by("pk").values_list(column, "pk")
        ):
            found.setdefault(value, pk)
        for line in lines:
            if line.customer is None:
                line.customer = found.get(getattr(line, key))
    if state.unmatched == "reject":
        unknown = _("Unknown customer.")
        for line in lines:
            if line.customer is None:
                # The column that named the customer (else the first customer column).
                given = [n for n in CUSTOMER_COLUMNS if n in line.values]
                name = next((n for n in given if text(line.values[n])), None)
                line.errors.setdefault(name or (given or ["customer"])[0], unknown)


def _owners(lines: list[Line], state: State) -> None:
    actor = state.actor
    missing = {ln.owner for ln in lines if ln.owner} - set(state.owners) - {actor.username}
    if missing:
        users = scoped(actor, Perm.CHANGE_SALES, get_user_model()).filter(
            username__in=missing, is_active=True
        )
        for user in users.only("pk", "username", "team_id", "department_id"):
            state.owners[user.username] = user
    for line in lines:
        if not line.owner or line.owner == actor.username:
            line.user = actor
            continue
        line.user = state.owners.setdefault(line.owner, None)
        if line.user is None:
            line.errors["owner"] = _("No active colleague with this user name you may credit.")


def text(value: str | None) -> str:
    """A cell's text, trimmed, without control characters (tabs and newlines stay)."""
    value = (value or "").strip()
    return CONTROL.sub("", value) if value and not value.isprintable() else value

"""Demo sales: a bilingual catalogue, orders (about one in eight from walk-in consumers)
with payments and the odd refund, contracts with real terms, opportunities across the
pipeline, and quotas set from each person's actual sales.

Orders, lines and payments are written with ``kehu.core.bulk`` (COPY / executemany with
reserved ids), one transaction per batch, so ten million orders never sit in memory or
in one transaction. Amounts follow ``kehu.sales.money`` exactly.
"""

from __future__ import annotations

import random
from bisect import bisect
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from kehu.accounts.models import Team, User
from kehu.core.bulk import BulkWriter
from kehu.customers.choices import Kind
from kehu.customers.models import Customer
from kehu.sales.choices import (
    ContractStatus,
    DeliveryStatus,
    OpportunityStatus,
    OrderChannel,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    QuotaPeriod,
    RenewalType,
)
from kehu.sales.models import (
    Contract,
    Opportunity,
    Order,
    OrderLine,
    Payment,
    PipelineStage,
    Product,
    Quota,
    Refund,
)
from kehu.sales.money import cents, line_amounts
from kehu.sales.quotas import period_start

# code, 简体, 繁體, English, category, unit, list price, tax rate
PRODUCTS = [
    (
        "TEA-001",
        "西湖龙井 250g",
        "西湖龍井 250g",
        "Longjing green tea 250 g",
        "茶叶",
        "盒",
        "268.00",
        "0.13",
    ),
    (
        "TEA-002",
        "安溪铁观音 500g",
        "安溪鐵觀音 500g",
        "Anxi Tieguanyin 500 g",
        "茶叶",
        "罐",
        "398.00",
        "0.13",
    ),
    (
        "TEA-003",
        "云南普洱茶饼 357g",
        "雲南普洱茶餅 357g",
        "Yunnan Pu'er cake 357 g",
        "茶叶",
        "饼",
        "188.00",
        "0.13",
    ),
    (
        "TEA-010",
        "企业定制茶礼盒",
        "企業定製茶禮盒",
        "Corporate tea gift box",
        "礼品",
        "套",
        "688.00",
        "0.13",
    ),
    (
        "APP-101",
        "智能电热水壶",
        "智能電熱水壺",
        "Smart electric kettle",
        "小家电",
        "台",
        "329.00",
        "0.13",
    ),
    (
        "APP-102",
        "家用净水器",
        "家用淨水器",
        "Home water purifier",
        "小家电",
        "台",
        "1999.00",
        "0.13",
    ),
    (
        "APP-103",
        "空气净化器 Pro",
        "空氣淨化器 Pro",
        "Air purifier Pro",
        "小家电",
        "台",
        "2899.00",
        "0.13",
    ),
    (
        "APP-110",
        "滤芯（年度装）",
        "濾芯（年度裝）",
        "Filter cartridges, one year",
        "耗材",
        "套",
        "459.00",
        "0.13",
    ),
    (
        "OFF-201",
        "A4 复印纸（5 包）",
        "A4 影印紙（5 包）",
        "A4 copy paper, 5 reams",
        "办公用品",
        "箱",
        "135.00",
        "0.13",
    ),
    (
        "OFF-202",
        "人体工学办公椅",
        "人體工學辦公椅",
        "Ergonomic office chair",
        "办公家具",
        "把",
        "1580.00",
        "0.13",
    ),
    ("OFF-203", "升降办公桌", "升降辦公桌", "Standing desk", "办公家具", "张", "2680.00", "0.13"),
    (
        "SVC-301",
        "上门安装服务",
        "上門安裝服務",
        "On-site installation",
        "服务",
        "次",
        "200.00",
        "0.06",
    ),
    (
        "SVC-302",
        "年度维保服务",
        "年度維保服務",
        "Annual maintenance plan",
        "服务",
        "年",
        "3600.00",
        "0.06",
    ),
    (
        "SVC-303",
        "员工培训（半天）",
        "員工培訓（半天）",
        "Staff training, half day",
        "服务",
        "场",
        "4800.00",
        "0.06",
    ),
    (
        "SVC-304",
        "物流配送（同城）",
        "物流配送（同城）",
        "Same-city delivery",
        "服务",
        "单",
        "30.00",
        "0.09",
    ),
    (
        "FOOD-401",
        "有机大米 10kg",
        "有機大米 10kg",
        "Organic rice 10 kg",
        "食品",
        "袋",
        "129.00",
        "0.09",
    ),
    (
        "FOOD-402",
        "五常稻花香 5kg",
        "五常稻花香 5kg",
        "Wuchang fragrant rice 5 kg",
        "食品",
        "袋",
        "89.00",
        "0.09",
    ),
    ("FOOD-403", "坚果礼盒", "堅果禮盒", "Nut gift box", "礼品", "盒", "168.00", "0.13"),
    (
        "SW-501",
        "门店收银系统（年费）",
        "門店收銀系統（年費）",
        "Store POS software, yearly",
        "软件",
        "年",
        "2400.00",
        "0.06",
    ),
    (
        "SW-502",
        "会员小程序（年费）",
        "會員小程序（年費）",
        "Membership mini-program, yearly",
        "软件",
        "年",
        "6800.00",
        "0.06",
    ),
]
CHANNELS = [
    (OrderChannel.STORE, 30),
    (OrderChannel.ONLINE, 25),
    (OrderChannel.WECHAT, 20),
    (OrderChannel.FIELD, 15),
    (OrderChannel.PHONE, 10),
]
METHODS = [
    PaymentMethod.WECHAT_PAY,
    PaymentMethod.WECHAT_PAY,
    PaymentMethod.ALIPAY,
    PaymentMethod.ALIPAY,
    PaymentMethod.CARD,
    PaymentMethod.TRANSFER,
    PaymentMethod.CASH,
]
WALK_IN_SHARE = 0.12
REFUND_REASONS = [
    "商品破损，部分退款",
    "尺寸不合适，退货",
    "Late delivery, goodwill refund",
    "重复下单",
    "质量问题退货",
]
CONSUMERS = ["散客", "门店顾客", "Walk-in", "到店自提", "扫码顾客"]
ORDERS_PER_CUSTOMER = 5
BATCH = 2000

# title (zh), title (en) for contracts and opportunities
DEALS = [
    ("年度办公用品供货", "Office supplies, yearly supply"),
    ("净水设备采购及安装", "Water purifiers, supply and installation"),
    ("员工福利茶礼采购", "Tea gifts for staff benefits"),
    ("门店收银系统部署", "Store POS roll-out"),
    ("年度维保服务", "Annual maintenance"),
    ("会员小程序建设", "Membership mini-program"),
    ("空气净化器批量采购", "Air purifiers, bulk purchase"),
    ("办公家具更新", "Office furniture refresh"),
]
LOST_REASONS = ["价格高于竞品", "客户预算取消", "Chose a competitor", "项目延期到明年"]
PAYMENT_TERMS = "合同签订后5个工作日内支付30%预付款；货到验收合格后30日内付清余款。"
DELIVERY_TERMS = "乙方于收到预付款后15日内送货至甲方指定地点，运费由乙方承担。"
RULES = "甲方按月提交订货单，乙方按合同单价供货；单价在合同期内不变。"
LIABILITY = (
    "任何一方违约，应向守约方支付合同总价款10%的违约金；"
    "乙方逾期交货的，每逾期一日按逾期部分货款的0.05%支付违约金。"
)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def ensure_products() -> list[Product]:
    existing = {p.code: p for p in Product.objects.all()}
    new = [
        Product(
            code=code,
            name_zh_hans=hans,
            name_zh_hant=hant,
            name_en=en,
            category=category,
            unit=unit,
            list_price=Decimal(price),
            tax_rate=Decimal(rate),
        )
        for code, hans, hant, en, category, unit, price, rate in PRODUCTS
        if code not in existing
    ]
    Product.objects.bulk_create(new)
    return list(Product.objects.filter(is_active=True).order_by("code"))


class _Orders:
    """Builds order, line and payment rows in memory for one batch."""

    def __init__(self, rng: random.Random, products: list[Product], sellers: list[User]) -> None:
        self.rng = rng
        self.products = products
        self.sellers = sellers
        self.writer = BulkWriter()
        self.channels = [c for c, _w in CHANNELS]
        self.channel_cum = _cumulative([w for _c, w in CHANNELS])
        self.now = timezone.now().astimezone(UTC)
        w = self.writer
        self.order_fixed, self.order_fixed_values = w.defaults(Order, ORDER_FIELDS)
        self.line_fixed, self.line_fixed_values = w.defaults(OrderLine, (*LINE_FIELDS, "id"))
        self.pay_fixed, self.pay_fixed_values = w.defaults(Payment, (*PAY_FIELDS, "id"))
        self.refund_fixed, self.refund_fixed_values = w.defaults(Refund, (*REFUND_FIELDS, "id"))

    def channel(self) -> str:
        return self.channels[bisect(self.channel_cum, self.rng.random() * self.channel_cum[-1])]

    def write(self, specs: list[tuple[int | None, Any]]) -> tuple[int, int, int]:
        """``specs``: (customer id or None, owner user) per order."""
        rng, w = self.rng, self.writer
        ids = w.reserve_ids(Order, len(specs))
        orders, lines, payments, refunds = [], [], [], []
        for pk, (customer_id, seller) in zip(ids, specs, strict=True):
            days = int(rng.triangular(0, 730, 0))
            ordered = self.now - timedelta(days=days, seconds=rng.randrange(9 * 3600, 21 * 3600))
            total = subtotal = discount_total = tax_total = Decimal("0.00")
            for _n in range(rng.choice((1, 1, 1, 2, 2, 3))):
                product = self.products[int(rng.paretovariate(1.2)) % len(self.products)]
                quantity = Decimal(rng.choice((1, 1, 1, 2, 2, 3, 5, 10)))
                gross = cents(quantity * product.list_price)
                discount = cents(gross * Decimal("0.05")) if rng.random() < 0.2 else Decimal(0)
                a = line_amounts(
                    quantity=quantity,
                    unit_price=product.list_price,
                    discount=discount,
                    tax_rate=product.tax_rate,
                )
                lines.append(
                    (
                        pk,
                        product.pk,
                        product.name_zh_hans,
                        quantity,
                        product.list_price,
                        a.discount,
                        product.tax_rate,
                        a.net,
                        a.tax,
                        a.total,
                    )
                )
                subtotal += a.gross
                discount_total += a.discount
                tax_total += a.tax
                total += a.total
            roll = rng.random()
            status = OrderStatus.CONFIRMED
            if roll < 0.02 and days > 3:
                status, paid = OrderStatus.CANCELLED, Decimal("0.00")
            elif days < 5 and roll < 0.3:
                paid = Decimal("0.00")
            elif roll < 0.08:
                paid = cents(total * Decimal("0.3"))
            else:
                paid = total
            refunded = Decimal("0.00")
            if paid and status == OrderStatus.CONFIRMED and rng.random() < 0.03:
                refunded = cents(paid * Decimal(rng.choice(("0.2", "0.5", "1"))))
            if paid:
                payments.append(
                    (
                        pk,
                        paid,
                        w.when(ordered + timedelta(minutes=rng.randrange(1, 600))),
                        rng.choice(METHODS),
                        seller.pk,
                        w.when(ordered),
                    )
                )
            if refunded:
                refunds.append(
                    (
                        pk,
                        refunded,
                        w.when(ordered + timedelta(days=rng.randrange(1, 20))),
                        rng.choice(REFUND_REASONS),
                        refunded == paid,
                        seller.pk,
                        w.when(ordered),
                    )
                )
            if status == OrderStatus.CANCELLED:
                pay_status = PaymentStatus.UNPAID
            elif refunded and refunded >= paid:
                pay_status = PaymentStatus.REFUNDED
            elif paid >= total:
                pay_status = PaymentStatus.PAID
            else:
                pay_status = PaymentStatus.PARTIAL if paid else PaymentStatus.UNPAID
            delivered = DeliveryStatus.DELIVERED if days > 7 else DeliveryStatus.PENDING
            if refunded and refunded == paid:
                delivered = DeliveryStatus.RETURNED
            anonymous = customer_id is None
            orders.append(
                (
                    pk,
                    f"SO-{pk:08d}",
                    customer_id,
                    (rng.choice(CONSUMERS) + f" #{pk % 10000:04d}") if anonymous else "",
                    w.when(ordered),
                    OrderChannel.STORE if anonymous and rng.random() < 0.6 else self.channel(),
                    status,
                    subtotal,
                    discount_total,
                    tax_total,
                    total,
                    paid,
                    refunded,
                    pay_status,
                    delivered,
                    seller.pk,
                    seller.team_id,
                    seller.department_id,
                    w.when(ordered),
                    w.when(ordered),
                )
            )
        w.write(
            Order._meta.db_table,
            w.columns_of(Order, ORDER_FIELDS) + self.order_fixed,
            [row + self.order_fixed_values for row in orders],
        )
        w.write(
            OrderLine._meta.db_table,
            w.columns_of(OrderLine, LINE_FIELDS) + self.line_fixed,
            [row + self.line_fixed_values for row in lines],
        )
        w.write(
            Payment._meta.db_table,
            w.columns_of(Payment, PAY_FIELDS) + self.pay_fixed,
            [row + self.pay_fixed_values for row in payments],
        )
        w.write(
            Refund._meta.db_table,
            w.columns_of(Refund, REFUND_FIELDS) + self.refund_fixed,
            [row + self.refund_fixed_values for row in refunds],
        )
        return len(orders), len(lines), len(payments) + len(refunds)


ORDER_FIELDS = (
    "id",
    "number",
    "customer_id",
    "consumer_label",
    "ordered_at",
    "channel",
    "status",
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "paid_total",
    "refunded_total",
    "payment_status",
    "delivery_status",
    "owner_id",
    "team_id",
    "department_id",
    "created_at",
    "updated_at",
)
LINE_FIELDS = (
    "order_id",
    "product_id",
    "description",
    "quantity",
    "unit_price",
    "discount",
    "tax_rate",
    "net",
    "tax",
    "total",
)
PAY_FIELDS = ("order_id", "amount", "paid_at", "method", "recorded_by_id", "created_at")
REFUND_FIELDS = (
    "order_id",
    "amount",
    "refunded_at",
    "reason",
    "goods_returned",
    "recorded_by_id",
    "created_at",
)


def make_orders(rng: random.Random, count: int, *, after_id: int) -> dict[str, int]:
    """``count`` orders spread over the customers with ids above ``after_id`` (a few
    customers buy often, most now and then) plus walk-in consumers."""
    sellers = list(
        User.objects.filter(role__code__in=["sales", "manager"], is_active=True).order_by("pk")
    )
    if count <= 0 or not sellers:
        return {"orders": 0, "order_lines": 0, "payments": 0}
    builder = _Orders(rng, ensure_products(), sellers)
    # A customer's orders are credited to the customer's owner, whoever that is.
    by_pk = {u.pk: u for u in User.objects.filter(is_active=True)}
    customers = Customer.objects.filter(pk__gt=after_id).order_by("pk")
    total_customers = customers.count()
    mean = count * (1 - WALK_IN_SHARE) / max(total_customers, 1)
    written = {"orders": 0, "order_lines": 0, "payments": 0}
    pending: list[tuple[int | None, Any]] = []
    last = after_id

    def flush() -> None:
        with transaction.atomic():
            o, li, p = builder.write(pending)
        written["orders"] += o
        written["order_lines"] += li
        written["payments"] += p
        pending.clear()

    remaining = count

    def add(customer_id: int | None, seller: Any) -> None:
        nonlocal remaining
        pending.append((customer_id, seller))
        remaining -= 1
        if len(pending) >= BATCH:
            flush()

    while remaining > 0:
        rows = list(customers.filter(pk__gt=last).values_list("pk", "owner_id")[:BATCH])
        if not rows:
            if total_customers == 0:  # no demo customers: walk-in consumers only
                while remaining > 0:
                    add(None, rng.choice(sellers))
                break
            last = after_id  # round again until the count is reached
            continue
        last = rows[-1][0]
        for pk, owner_id in rows:
            seller = by_pk.get(owner_id) or rng.choice(sellers)
            for _n in range(int(rng.expovariate(1 / mean)) if mean else 1):
                if remaining <= 0:
                    break
                add(pk, seller)
                if remaining > 0 and rng.random() < WALK_IN_SHARE / (1 - WALK_IN_SHARE):
                    add(None, rng.choice(sellers))
            if remaining <= 0:
                break
    if pending:
        flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_order, sales_orderline, sales_payment")
    return written


def make_contracts_and_opportunities(
    rng: random.Random, *, after_id: int, limit: int = 20_000
) -> tuple[int, int]:
    """Contracts for about one organisation in six and opportunities for about one customer
    in seven (at most ``limit`` of each), with owners' time zones and today's date in mind:
    some contracts end within their reminder window, some ended without renewal."""
    stages = list(PipelineStage.objects.filter(is_active=True).order_by("position"))
    users = {u.pk: u for u in User.objects.filter(is_active=True)}
    today = timezone.localdate()
    contracts: list[Contract] = []
    opportunities: list[Opportunity] = []
    rows = (
        Customer.objects.filter(pk__gt=after_id, owner__isnull=False)
        .order_by("pk")
        .values_list("pk", "kind", "owner_id", "name")
    )
    for pk, kind, owner_id, name in rows.iterator(chunk_size=BATCH):
        owner = users.get(owner_id)
        if owner is None:
            continue
        scope = {"owner": owner, "team_id": owner.team_id, "department_id": owner.department_id}
        zh, en = rng.choice(DEALS)
        english = rng.random() < 0.15
        if kind == Kind.ORGANISATION and len(contracts) < limit and rng.random() < 1 / 6:
            starts = today - timedelta(days=rng.randrange(0, 700))
            ends = starts + timedelta(days=rng.choice((180, 364, 364, 729)))
            remind_days = rng.choice((15, 30, 30, 60))
            remind_on = ends - timedelta(days=remind_days)
            if rng.random() < 0.08:
                status = ContractStatus.DRAFT
            elif rng.random() < 0.05:
                status = ContractStatus.TERMINATED
            elif ends < today:
                status = ContractStatus.EXPIRED
            elif remind_on <= today:
                status = ContractStatus.EXPIRING
            else:
                status = ContractStatus.ACTIVE
            contracts.append(
                Contract(
                    number=f"HT-{starts:%Y}-{len(contracts) + 1:06d}",
                    title=en if english else zh,
                    customer_id=pk,
                    parties=f"甲方：{name}\n乙方：客户演示贸易有限公司",
                    signed_on=starts - timedelta(days=rng.randrange(1, 20)),
                    starts_on=starts,
                    ends_on=ends,
                    value=Decimal(rng.randrange(20, 600) * 1000),
                    payment_terms=PAYMENT_TERMS,
                    delivery_terms=DELIVERY_TERMS,
                    transaction_rules=RULES,
                    default_liability=LIABILITY,
                    renewal=RenewalType.AUTO if rng.random() < 0.25 else RenewalType.MANUAL,
                    status=status,
                    remind_days=remind_days,
                    remind_on=remind_on,
                    reminded_at=timezone.now() if status == ContractStatus.EXPIRING else None,
                    **scope,
                )
            )
        if stages and len(opportunities) < limit and rng.random() < 1 / 7:
            roll = rng.random()
            status = (
                OpportunityStatus.OPEN
                if roll < 0.7
                else OpportunityStatus.WON
                if roll < 0.88
                else OpportunityStatus.LOST
            )
            opportunities.append(
                Opportunity(
                    title=(en if english else zh),
                    customer_id=pk,
                    stage=rng.choice(stages),
                    amount=Decimal(rng.randrange(5, 400) * 500),
                    expected_close=today + timedelta(days=rng.randrange(-20, 120)),
                    status=status,
                    closed_at=None
                    if status == OpportunityStatus.OPEN
                    else timezone.now() - timedelta(days=rng.randrange(1, 90)),
                    lost_reason=rng.choice(LOST_REASONS)
                    if status == OpportunityStatus.LOST
                    else "",
                    **scope,
                )
            )
    with transaction.atomic():
        Contract.objects.bulk_create(contracts, batch_size=BATCH)
        Opportunity.objects.bulk_create(opportunities, batch_size=BATCH)
    return len(contracts), len(opportunities)


def make_quotas(rng: random.Random) -> int:
    """Monthly quotas for each salesperson and manager (the last six months and this
    one), and quarterly and yearly quotas for each sales team. A target is what the
    person actually sold on average over the past six months, times 0.9 to 1.3, rounded
    to the thousand: a plan a manager could have set, and attainment that varies."""
    today = timezone.localdate()
    this_month = period_start(QuotaPeriod.MONTH, today)
    months = [this_month]
    for _n in range(6):
        months.append(period_start(QuotaPeriod.MONTH, months[-1] - timedelta(days=1)))
    history_start = months[-1]
    sellers = list(
        User.objects.filter(role__code__in=["sales", "manager"], is_active=True).order_by("pk")
    )
    since = timezone.make_aware(datetime.combine(history_start, time.min))
    sold = dict(
        Order.objects.filter(status=OrderStatus.CONFIRMED, ordered_at__gte=since)
        .values("owner_id")
        .annotate(s=Sum("total"))
        .values_list("owner_id", "s")
    )
    taken = set(Quota.all_objects.values_list("user_id", "team_id", "period", "starts_on"))
    quotas: list[Quota] = []

    def target(monthly: Decimal, months: int) -> Decimal:
        amount = monthly * months * Decimal(str(round(rng.uniform(0.9, 1.3), 2)))
        return max(Decimal(1000), (amount / 1000).quantize(Decimal(1)) * 1000)

    for seller in sellers:
        monthly = Decimal(sold.get(seller.pk) or 0) / 7
        for month in months:
            key = (seller.pk, seller.team_id, QuotaPeriod.MONTH, month)
            if key not in taken:
                quotas.append(
                    Quota(
                        user=seller,
                        team_id=seller.team_id,
                        period=QuotaPeriod.MONTH,
                        starts_on=month,
                        amount=target(monthly, 1),
                        new_customers=rng.choice((None, 2, 3, 5)),
                    )
                )
    for team in Team.objects.filter(department__code="sales"):
        team_monthly = sum(
            (Decimal(sold.get(s.pk) or 0) / 7 for s in sellers if s.team_id == team.pk),
            Decimal(0),
        )
        for period, months_in in ((QuotaPeriod.QUARTER, 3), (QuotaPeriod.YEAR, 12)):
            start = period_start(period, today)
            if (None, team.pk, period, start) not in taken:
                quotas.append(
                    Quota(
                        team=team,
                        period=period,
                        starts_on=start,
                        amount=target(team_monthly, months_in),
                        new_customers=rng.choice((10, 20, 30)),
                    )
                )
    Quota.objects.bulk_create(quotas, batch_size=BATCH)
    return len(quotas)


def load_sales(rng: random.Random, *, orders: int, after_id: int) -> dict[str, int]:
    """Every sales part of the demo; returns rows written per kind."""
    summary = {"products": len(ensure_products())}
    summary.update(make_orders(rng, orders, after_id=after_id))
    summary["contracts"], summary["opportunities"] = make_contracts_and_opportunities(
        rng, after_id=after_id
    )
    summary["quotas"] = make_quotas(rng)
    return summary


def default_orders(customers: int) -> int:
    return customers * ORDERS_PER_CUSTOMER


__all__ = ["default_orders", "load_sales"]

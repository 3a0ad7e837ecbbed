"""Sales records: the catalogue, orders (of customers or of anonymous consumers), their
payments and refunds, contracts, the pipeline of opportunities, and quotas.

Money is ``Decimal`` with two places everywhere (``money_field``); order totals are computed by
``kehu.sales.money`` and stored on the order so that lists and analyses read them
without summing lines.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.access import ScopeFields
from kehu.core.i18n import TrilingualNameMixin
from kehu.core.models import KehuModel, TimeStampedModel, deleted_index
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


def money_field(verbose_name: Any, **options: Any) -> models.DecimalField:
    """An amount of money: 14 digits, 2 after the point (up to 999,999,999,999.99)."""
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **options)


SCOPE = ScopeFields(own="owner", team="team", department="department")


class OwnedRecord(KehuModel):
    """A sales record credited to a salesperson (its owner) and their team and department
    at the time; a salesperson sees their own, a manager the team's."""

    # owner and team are the first columns of each model's composite indexes.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    access_scope = SCOPE

    class Meta:
        abstract = True


class Product(TrilingualNameMixin, KehuModel):
    """A product or service in the catalogue. Everyone who sells sees the catalogue."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    list_price = money_field(_("list price"))
    # 0.1300 is 13 % VAT; China's rates are 13 %, 9 %, 6 % and 0 %.
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [deleted_index("product_deleted_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(list_price__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lt=1), name="product_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Order(OwnedRecord):
    """A sale, to a customer or to an anonymous consumer (顾客: a walk-in with no file)."""

    number = models.CharField(_("order number"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # order_customer_idx
    )
    # What is known of an anonymous consumer ("walk-in, table 5", a masked phone…).
    consumer_label = models.CharField(_("consumer"), max_length=100, blank=True)
    ordered_at = models.DateTimeField(_("ordered at"), default=timezone.now)
    channel = models.CharField(
        _("channel"), max_length=20, choices=OrderChannel.choices, default=OrderChannel.STORE
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    prices_include_tax = models.BooleanField(_("prices include tax"), default=True)
    subtotal = money_field(_("subtotal"), default=0)
    discount_total = money_field(_("discount"), default=0)
    tax_total = money_field(_("tax"), default=0)
    total = money_field(_("total"), default=0)
    paid_total = money_field(_("paid"), default=0)
    refunded_total = money_field(_("refunded"), default=0)
    payment_status = models.CharField(
        _("payment"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    delivery_status = models.CharField(
        _("delivery"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    notes = models.TextField(_("notes"), blank=True)
    contract = models.ForeignKey(
        "sales.Contract",
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    linked_at = models.DateTimeField(_("linked to the customer at"), null=True, blank=True)
    # order_dept_idx serves the department scope; no separate foreign-key index.
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    import_job = models.ForeignKey(
        "dataio.ImportJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # only read together with the number, which is unique
    )

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            deleted_index("order_deleted_idx"),
            models.Index(fields=["customer", "-ordered_at"], name="order_customer_idx"),
            models.Index(fields=["owner", "-ordered_at"], name="order_owner_idx"),
            models.Index(fields=["team", "-ordered_at"], name="order_team_idx"),
            models.Index(fields=["department", "-ordered_at"], name="order_dept_idx"),
            models.Index(fields=["-ordered_at", "-id"], name="order_ordered_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_total__lte=models.F("paid_total")),
                name="order_refund_lte_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_anonymous(self) -> bool:
        return self.customer_id is None

    @property
    def net_total(self):
        return self.total - self.refunded_total

    @property
    def outstanding(self):
        return max(self.total - self.paid_total, 0)


class OrderLine(models.Model):
    """One line of an order: amounts computed by ``kehu.sales.money.line_amounts``."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = money_field(_("unit price"))
    discount = money_field(_("discount"), default=0)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4, default=0)
    net = money_field(_("amount"))
    tax = money_field(_("tax"))
    total = money_field(_("total"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_gte_0"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="orderline_discount_gte_0"),
        ]

    def __str__(self) -> str:
        return self.description or str(self.product_id)


class Payment(models.Model):
    """Money received for an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    amount = money_field(_("amount"))
    paid_at = models.DateTimeField(_("paid at"), default=timezone.now)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["paid_at", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_gt_0")]

    def __str__(self) -> str:
        return f"{self.amount} {self.method}"


class Refund(models.Model):
    """Money given back (a return or a goodwill refund); never more than was paid."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    amount = money_field(_("amount"))
    refunded_at = models.DateTimeField(_("refunded at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=200)
    goods_returned = models.BooleanField(_("goods returned"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["refunded_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_gt_0")]

    def __str__(self) -> str:
        return f"{self.amount} {self.reason}"


class Contract(OwnedRecord):
    """A contract (合同) with its terms, period, rules and liability for default."""

    number = models.CharField(_("contract number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="contracts",
        db_index=False,  # contract_customer_idx
    )
    parties = models.TextField(_("parties"), blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    value = money_field(_("value"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    payment_terms = models.TextField(_("payment terms"), blank=True)
    delivery_terms = models.TextField(_("delivery terms"), blank=True)
    transaction_rules = models.TextField(_("transaction rules"), blank=True)
    default_liability = models.TextField(_("liability for default"), blank=True)
    renewal = models.CharField(
        _("renewal"), max_length=10, choices=RenewalType.choices, default=RenewalType.MANUAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    remind_days = models.PositiveSmallIntegerField(_("remind days before the end"), default=30)
    # The first day (in the owner's time zone) the end reminder is due: ends_on - remind_days.
    remind_on = models.DateField(_("reminder due on"))
    reminded_at = models.DateTimeField(_("reminder raised at"), null=True, blank=True)
    renewed_from = models.OneToOneField(
        "self",
        verbose_name=_("renews"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal_contract",
    )

    class Meta:
        ordering = ["ends_on", "id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            deleted_index("contract_deleted_idx"),
            models.Index(fields=["customer", "-starts_on"], name="contract_customer_idx"),
            models.Index(fields=["owner", "ends_on"], name="contract_owner_idx"),
            models.Index(fields=["team", "ends_on"], name="contract_team_idx"),
            models.Index(
                fields=["remind_on"],
                name="contract_remind_idx",
                condition=Q(reminded_at__isnull=True, status="active"),
            ),
            models.Index(fields=["status", "ends_on"], name="contract_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="contract_period_order"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="contract_value_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ContractAttachment(models.Model):
    """A file of a contract (PDF or image), stored under a generated name, never served
    inline or executed."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="attachments")
    original_name = models.CharField(_("file name"), max_length=200)
    stored_name = models.CharField(max_length=100, unique=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class PipelineStage(TrilingualNameMixin, TimeStampedModel):
    """A stage of the sales pipeline, with the chance that an opportunity in it is won."""

    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=10)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="stage_probability_lte_100"
            )
        ]


class Opportunity(OwnedRecord):
    """A chance of a sale (商机), worked through the pipeline to won or lost."""

    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
        db_index=False,  # opp_customer_idx
    )
    stage = models.ForeignKey(
        PipelineStage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(_("expected amount"))
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["expected_close", "id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            deleted_index("opp_deleted_idx"),
            models.Index(fields=["customer", "status"], name="opp_customer_idx"),
            models.Index(fields=["owner", "status"], name="opp_owner_idx"),
            models.Index(fields=["team", "status"], name="opp_team_idx"),
            models.Index(fields=["status", "stage"], name="opp_status_stage_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="opp_amount_gte_0")]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_amount(self):
        from kehu.sales.money import cents

        return cents(self.amount * self.stage.probability / 100)


class Quota(KehuModel):
    """A sales plan (销售计划/销售定额) of a person or a team for a month, quarter or year.

    A person's quota also names the person's team (so the team's manager sees it); a
    team's quota has no person.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    period = models.CharField(_("period"), max_length=10, choices=QuotaPeriod.choices)
    starts_on = models.DateField(_("starts on"))
    amount = money_field(_("sales target"))
    new_customers = models.PositiveIntegerField(_("new customers target"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    # A person sees their own quota; a manager their team's people and the team.
    access_scope = ScopeFields(own="user", team="team", department="team__department")

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        indexes = [deleted_index("quota_deleted_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(team__isnull=False),
                name="quota_user_or_team",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="quota_amount_gte_0"),
            models.UniqueConstraint(
                fields=["user", "period", "starts_on"],
                name="quota_user_period_unique",
                condition=Q(deleted_at__isnull=True, user__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["team", "period", "starts_on"],
                name="quota_team_period_unique",
                condition=Q(deleted_at__isnull=True, user__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display()} {self.starts_on}"

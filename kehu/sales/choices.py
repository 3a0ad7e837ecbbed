"""The fixed choices of sales records."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrderChannel(models.TextChoices):
    STORE = "store", _("Store")
    ONLINE = "online", _("Online shop")
    PHONE = "phone", pgettext_lazy("sales channel", "Phone")
    FIELD = "field", _("Field sales")
    WECHAT = "wechat", _("WeChat mini-program")
    OTHER = "other", pgettext_lazy("sales channel", "Other")


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTIAL = "partial", _("Partly paid")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Not delivered")
    PARTIAL = "partial", _("Partly delivered")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    CARD = "card", _("Bank card")
    TRANSFER = "transfer", _("Bank transfer")
    OTHER = "other", pgettext_lazy("payment method", "Other")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", pgettext_lazy("contract status", "Active")
    EXPIRING = "expiring", _("Expiring")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")
    RENEWED = "renewed", _("Renewed")


class RenewalType(models.TextChoices):
    MANUAL = "manual", _("Manual renewal")
    AUTO = "auto", _("Automatic renewal")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("opportunity status", "Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class QuotaPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")

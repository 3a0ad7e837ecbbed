"""Vocabularies of customer needs (DOMAIN §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NeedDomain(models.TextChoices):
    """Production or living needs (生产需求 / 生活需求)."""

    PRODUCTION = "production", _("Production need")
    LIVING = "living", _("Living need")


class NeedNature(models.TextChoices):
    """Material or spiritual and cultural needs (物质需求 / 精神文化需求)."""

    MATERIAL = "material", _("Material")
    SPIRITUAL = "spiritual", _("Spiritual and cultural")


class DecisionFactor(models.TextChoices):
    """The four key purchase-decision factors (质量、可靠性、传递速度、礼貌待人)."""

    NONE = "", _("Not about a decision factor")
    QUALITY = "quality", _("Quality")
    RELIABILITY = "reliability", _("Reliability")
    DELIVERY_SPEED = "delivery_speed", _("Delivery speed")
    COURTESY = "courtesy", _("Courtesy")


class NeedSource(models.TextChoices):
    """Where a need was learnt (调查问卷、客户投诉、客户评价卡、面谈)."""

    INTERVIEW = "interview", _("Face-to-face conversation")
    COMPLAINT = "complaint", _("Complaint")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire")
    EVALUATION_CARD = "evaluation_card", _("Customer evaluation card")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class NeedStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("need status", "Open")
    IN_PROGRESS = "in_progress", _("Being worked on")
    MET = "met", _("Met")
    DECLINED = "declined", _("Not pursued")

"""Fixed vocabularies of the customer file."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")


class Stage(models.TextChoices):
    """Lifecycle stage (seed 004: 潜在客户, 未来客户 …)."""

    PROSPECT = "prospect", _("Prospect")
    POTENTIAL = "potential", _("Potential (future)")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")
    WON_BACK = "won_back", _("Won back")
    DISMISSED = "dismissed", _("Dismissed")


class Tier(models.TextChoices):
    """重点 / 普通 / 小客户."""

    KEY = "key", pgettext_lazy("customer tier", "Key")
    ORDINARY = "ordinary", _("Ordinary")
    SMALL = "small", _("Small")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not given")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    UNKNOWN = "", _("Not given")
    SURVEY = "survey", _("Market survey")
    LUCKY_DRAW = "lucky_draw", _("Lucky draw")
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    FAIR = "fair", _("Trade fair")
    WALK_IN = "walk_in", _("Walk-in")
    COLD_CALL = "cold_call", _("Cold call")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Size(models.TextChoices):
    UNKNOWN = "", _("Not given")
    MICRO = "micro", _("1–9 people")
    SMALL = "small", _("10–49 people")
    MEDIUM = "medium", _("50–249 people")
    LARGE = "large", _("250 people or more")


class Channel(models.TextChoices):
    """How a contact with the customer happened."""

    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    MESSAGE = "message", _("Message (WeChat, SMS)")
    EMAIL = "email", _("Email")
    NOTE = "note", _("Note")


class FieldKind(models.TextChoices):
    """What an administrator-defined custom field holds."""

    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")

"""The customer file (客户档案): customers, their contacts, tags and change history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.access import ScopeFields
from kehu.core.i18n import in_reader_language
from kehu.core.models import KehuModel, deleted_index
from kehu.customers.choices import (
    Channel,
    FieldKind,
    Gender,
    Kind,
    Size,
    Source,
    Stage,
    Tier,
)


class Tag(models.Model):
    """A free label on customers (VIP, 展会2026 …)."""

    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(Lower("name"), name="customers_tag_name_unique")]

    def __str__(self) -> str:
        return self.name


class Customer(KehuModel):
    """A customer: a person or an organisation with a file and a dedicated owner (专人负责).

    A customer without an owner sits in the public pool (公海) for salespeople to claim.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INDIVIDUAL)
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=20, choices=Size.choices, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    id_number = models.CharField(_("ID number"), max_length=32, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    address_text = models.TextField(_("address (free form)"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    referrer = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    notes = models.TextField(_("notes"), blank=True)
    # Values of the administrator-defined custom fields, by CustomField.key.
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Set when this record was merged into another: old links and ids lead there.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,  # cust_owner_updated_idx (owner, -updated_at) serves owner lookups
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        db_index=False,  # cust_team_updated_idx
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        db_index=False,  # cust_dept_updated_idx
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.PROSPECT
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.ORDINARY)
    tier_reason = models.CharField(_("reason for the tier"), max_length=200, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    pooled_at = models.DateTimeField(_("in the pool since"), null=True, blank=True)
    # When the current owner took the customer: the idle clock for the pool restarts here.
    assigned_at = models.DateTimeField(_("owner since"), null=True, blank=True)

    # Search keys, computed on every write (kehu.customers.search_keys). Their indexes are
    # plain B-trees in Meta.indexes: lookups are equalities and ranges, never LIKE, so the
    # varchar_pattern_ops twin that db_index=True adds on PostgreSQL is not needed.
    mobile_digits = models.CharField(max_length=32, blank=True)
    email_lower = models.CharField(max_length=254, blank=True)
    name_pinyin = models.CharField(max_length=400, blank=True)
    name_initials = models.CharField(max_length=100, blank=True)
    search_text = models.TextField(blank=True)

    # Pool, owner and team scopes: a customer in the pool belongs to no one.
    access_scope = ScopeFields(own="owner", team="team", department="department")

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Every index costs each insert (an import writes 100,000s of rows); the owner,
        # team and department foreign keys have none of their own, as the composites
        # below start with them (migration 0010).
        indexes = [
            deleted_index("cust_deleted_idx"),
            models.Index(fields=["owner", "-updated_at"], name="cust_owner_updated_idx"),
            models.Index(fields=["team", "-updated_at"], name="cust_team_updated_idx"),
            models.Index(fields=["department", "-updated_at"], name="cust_dept_updated_idx"),
            models.Index(fields=["stage"], name="cust_stage_idx"),
            models.Index(fields=["tier"], name="cust_tier_idx"),
            models.Index(fields=["name"], name="cust_name_idx"),
            models.Index(fields=["name_pinyin", "city"], name="cust_pinyin_city_idx"),
            models.Index(fields=["created_at"], name="cust_created_idx"),
            # The list's default order, for roles that see every customer.
            models.Index(fields=["-updated_at", "-id"], name="cust_updated_idx"),
            models.Index(fields=["last_contact_at"], name="cust_last_contact_idx"),
            models.Index(
                fields=["pooled_at"], name="cust_pool_idx", condition=models.Q(owner__isnull=True)
            ),
            models.Index(fields=["mobile_digits"], name="cust_mobile_digits_idx"),
            models.Index(fields=["email_lower"], name="cust_email_lower_idx"),
            models.Index(fields=["name_initials"], name="cust_name_initials_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def in_pool(self) -> bool:
        return self.owner_id is None


class Contact(KehuModel):
    """A person at an organisation customer, with their role there."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    access_scope = ScopeFields(
        own="customer__owner", team="customer__team", department="customer__department"
    )

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [deleted_index("contact_deleted_idx")]

    def __str__(self) -> str:
        return self.name


class CustomerChange(models.Model):
    """One field of one customer changed: who, when, old → new (动态管理)."""

    # No index of its own: cust_change_idx (customer, -changed_at) starts with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("customer change")
        verbose_name_plural = _("customer changes")
        indexes = [models.Index(fields=["customer", "-changed_at"], name="cust_change_idx")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class Interaction(models.Model):
    """One entry of a customer's timeline: a call, visit, meeting, message, email or note,
    with its outcome and the next step (which becomes the owner's follow-up)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = models.TextField(_("what happened"))
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    next_step_done = models.BooleanField(_("next step done"), default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    access_scope = ScopeFields(
        own="customer__owner", team="customer__team", department="customer__department"
    )

    class Meta:
        ordering = ["-happened_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-happened_at"], name="cust_interaction_idx"),
            models.Index(
                fields=["author", "next_step_due"],
                name="cust_followup_idx",
                condition=models.Q(next_step_done=False) & ~models.Q(next_step=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.happened_at:%Y-%m-%d}"


class CustomField(models.Model):
    """A field of the customer file that an administrator defines without a code change."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label_en = models.CharField(_("label (English)"), max_length=100)
    label_zh_hans = models.CharField(_("label (Simplified Chinese)"), max_length=100)
    label_zh_hant = models.CharField(_("label (Traditional Chinese)"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=FieldKind.choices)
    # For kind=choice: the allowed values, in order.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return in_reader_language(self.label_en, self.label_zh_hans, self.label_zh_hant)


class SavedFilter(models.Model):
    """A named search and filter of the customer list, kept per person."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_customer_filters"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("filter"), max_length=1000)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="cust_saved_filter_unique")
        ]

    def __str__(self) -> str:
        return self.name

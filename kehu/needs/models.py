"""Needs (需求) learnt from customers, kept and classified so they can be analysed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.access import ScopeFields
from kehu.core.models import KehuModel, deleted_index
from kehu.needs.choices import (
    DecisionFactor,
    NeedDomain,
    NeedNature,
    NeedSource,
    NeedStatus,
    Priority,
)


class Need(KehuModel):
    """A need (需求) learnt from a customer, classified for analysis (DOMAIN §3)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="needs"
    )
    title = models.CharField(_("need"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    domain = models.CharField(_("production or living"), max_length=20, choices=NeedDomain.choices)
    nature = models.CharField(_("material or spiritual"), max_length=20, choices=NeedNature.choices)
    factor = models.CharField(
        _("decision factor"), max_length=20, choices=DecisionFactor.choices, blank=True
    )
    source = models.CharField(_("learnt from"), max_length=20, choices=NeedSource.choices)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=20, choices=NeedStatus.choices, default=NeedStatus.OPEN
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    access_scope = ScopeFields(
        own="customer__owner", team="customer__team", department="customer__department"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        indexes = [
            deleted_index("need_deleted_idx"),
            models.Index(fields=["customer", "-created_at"], name="need_customer_idx"),
            models.Index(fields=["status", "priority"], name="need_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

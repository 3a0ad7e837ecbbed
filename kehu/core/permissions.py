"""The catalogue of permissions a role can carry. Apps add theirs here as they land."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm(models.TextChoices):
    VIEW_USERS = "accounts.view_users", _("See colleagues, teams and departments")
    MANAGE_USERS = "accounts.manage_users", _("Manage users, departments, teams and roles")
    VIEW_AUDIT = "audit.view", _("Browse the audit log")
    VIEW_CUSTOMERS = "customers.view", _("See customers in the data scope")
    CHANGE_CUSTOMERS = "customers.change", _("Create and edit customers in the data scope")
    DELETE_CUSTOMERS = "customers.delete", _("Delete customers in the data scope")
    CLAIM_CUSTOMERS = "customers.claim", _("Claim customers from the public pool")
    TRANSFER_CUSTOMERS = "customers.transfer", _("Hand customers over to another owner")
    REVEAL_CUSTOMER_PII = (
        "customers.reveal",
        _("Reveal masked mobile numbers, ID numbers and addresses (each reveal is audited)"),
    )
    MERGE_CUSTOMERS = "customers.merge", _("Merge duplicate customers")
    IMPORT_CUSTOMERS = "customers.import", _("Import customers and contacts from files")
    EXPORT_CUSTOMERS = "customers.export", _("Export customer lists to CSV or Excel")
    MANAGE_CUSTOM_FIELDS = "customers.custom_fields", _("Define custom fields of the customer file")
    MANAGE_TAGS = "customers.tags", _("Rename, merge and delete customer tags")
    VIEW_FILE_ACCESS = (
        "customers.view_access",
        _("See who opened a customer file and when (lending book)"),
    )
    RESTORE_CUSTOMERS = "customers.restore", _("Restore deleted customers")
    VIEW_SALES = (
        "sales.view",
        _("See orders, contracts, opportunities and quotas in the data scope"),
    )
    CHANGE_SALES = (
        "sales.change",
        _("Record orders, payments, refunds, contracts and opportunities in the data scope"),
    )
    DELETE_SALES = "sales.delete", _("Delete orders, contracts and opportunities in the data scope")
    MANAGE_CATALOGUE = "sales.catalogue", _("Manage the product catalogue and the pipeline stages")
    MANAGE_QUOTAS = "sales.quotas", _("Set sales plans and quotas in the data scope")
    IMPORT_ORDERS = "sales.import", _("Import historical orders from files")


class Scope(models.TextChoices):
    """How much data a role sees."""

    OWN = "own", _("Own records")
    TEAM = "team", _("Team's records")
    DEPARTMENT = "department", _("Department's records")
    ALL = "all", _("All records")


# Marks a view as open to anyone (the login page) or to any signed-in user.
PUBLIC = "public"
AUTHENTICATED = "authenticated"

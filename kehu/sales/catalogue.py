"""Writes of the product catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kehu.core.audit import audit_record, diff
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.sales.common import clean_money, clean_text, raise_if, require_perm
from kehu.sales.models import Product
from kehu.sales.money import to_decimal

EDITABLE = (
    "code",
    "name_en",
    "name_zh_hans",
    "name_zh_hant",
    "category",
    "unit",
    "list_price",
    "tax_rate",
    "is_active",
)


def clean_product_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown product fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    limits = {"code": 50, "name_en": 100, "name_zh_hans": 100, "name_zh_hant": 100}
    limits.update(category=100, unit=20)
    for name, value in fields.items():
        if name in limits:
            clean[name] = clean_text(value, name, errors, limit=limits[name])
        elif name == "list_price":
            clean[name] = clean_money(value, name, errors)
        elif name == "tax_rate":
            try:
                rate = to_decimal(value)
                if not (0 <= rate < 1) or rate != rate.quantize(to_decimal("0.0001")):
                    raise ValueError
                clean[name] = rate
            except ValueError:
                errors[name] = _("Enter a tax rate such as 0.13 for 13 %.")
        elif name == "is_active":
            clean[name] = bool(value)
    if "code" in clean and not clean["code"] and "code" not in errors:
        errors["code"] = _("Give the product a code.")
    names = [clean.get(n) for n in ("name_en", "name_zh_hans", "name_zh_hant")]
    if all(n is not None for n in names) and not any(names):
        errors["name_zh_hans"] = _("Name the product in at least one language.")
    raise_if(errors)
    return clean


def product_create(*, actor: Any, code: str, list_price: Any, **fields: Any) -> Product:
    require_perm(actor, Perm.MANAGE_CATALOGUE)
    clean = clean_product_fields(
        {
            "name_en": "",
            "name_zh_hans": "",
            "name_zh_hant": "",
            "tax_rate": "0",
            **fields,
            "code": code,
            "list_price": list_price,
        }
    )
    try:
        with transaction.atomic():
            product = Product.objects.create(**clean)
            audit_record(
                actor=actor, action="sales.product.create", obj=product, changes=diff({}, clean)
            )
    except IntegrityError:
        raise RuleViolation({"code": _("Another product has this code.")}) from None
    return product


def product_update(*, actor: Any, product: Product, expected_version: int, **fields) -> Product:
    require_perm(actor, Perm.MANAGE_CATALOGUE)
    clean = clean_product_fields(fields)
    try:
        with transaction.atomic():
            current = Product.objects.select_for_update().get(pk=product.pk)
            if current.version != expected_version:
                raise ConflictError(product)
            changes = diff({n: getattr(current, n) for n in clean}, clean)
            if changes:
                for name, value in clean.items():
                    setattr(current, name, value)
                current.save_versioned(
                    expected_version=expected_version, update_fields=sorted(clean)
                )
                audit_record(
                    actor=actor, action="sales.product.update", obj=current, changes=changes
                )
    except IntegrityError:
        raise RuleViolation({"code": _("Another product has this code.")}) from None
    return current

"""Custody of sensitive fields (严格资料的利用和借阅): mobile and phone numbers, ID numbers and
street addresses are shown masked (``138****5678``) unless the reader's role may reveal them,
and even then only on an explicit, audited reveal. Pages, the API and exports all mask through
this module, so the rule lives in one place.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from kehu.core.access import has_perm
from kehu.core.permissions import Perm

# Fields of Customer (and Contact, where they exist) that are masked.
MASKED_FIELDS: tuple[str, ...] = ("mobile", "phone", "id_number", "street", "address_text")
MASK = "****"


def can_reveal(actor: Any) -> bool:
    return has_perm(actor, Perm.REVEAL_CUSTOMER_PII)


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``138****5678``; other countries keep their code:
    ``+4915123456789`` → ``+49 151****6789``. Short numbers keep only the last two digits."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
        national = str(number.national_number)
        prefix = "" if number.country_code == 86 else f"+{number.country_code} "
    except phonenumbers.NumberParseException:
        national, prefix = "".join(ch for ch in value if ch.isdigit()), ""
    if len(national) >= 7:
        return f"{prefix}{national[:3]}{MASK}{national[-4:]}"
    return f"{prefix}{MASK}{national[-2:]}" if national else MASK


def mask_id_number(value: str) -> str:
    """Keep the first 3 and the last 4 characters: ``110101199003071234`` → ``110***********1234``."""
    if not value:
        return ""
    if len(value) <= 7:
        return MASK
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_address(value: str) -> str:
    """A street or free-form address: only its first two characters stay."""
    if not value:
        return ""
    return value[:2] + MASK


def mask_value(field: str, value: str) -> str:
    if field in ("mobile", "phone"):
        return mask_phone(value)
    if field == "id_number":
        return mask_id_number(value)
    if field in ("street", "address_text"):
        return mask_address(value)
    return value


def masked_values(obj: Any, *, revealed: bool = False) -> dict[str, str]:
    """The masked fields of a customer or contact, masked unless ``revealed``.

    ``revealed`` must only be True after ``can_reveal(actor)`` and an audited reveal."""
    values: dict[str, str] = {}
    for field in MASKED_FIELDS:
        if hasattr(obj, field):
            value = getattr(obj, field) or ""
            values[field] = value if revealed else mask_value(field, value)
    return values

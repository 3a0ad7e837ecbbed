"""Custody of sensitive fields (严格资料的利用和借阅): mobile and phone numbers, ID numbers and
street addresses are shown masked (``138****5678``) unless the reader's role may reveal them,
and even then only on an explicit, audited reveal. Pages, the API and exports all mask through
this module, so the rule lives in one place.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

from kehu.core.access import has_perm
from kehu.core.permissions import Perm

# Fields of Customer (and Contact, where they exist) that are masked.
MASKED_FIELDS: tuple[str, ...] = ("mobile", "phone", "id_number", "street", "address_text")
MASK = "****"
_CN_E164 = re.compile(r"\+86[1-9][0-9]{6,10}")


def can_reveal(actor: Any) -> bool:
    return has_perm(actor, Perm.REVEAL_CUSTOMER_PII)


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``138****5678``; other countries keep their code:
    ``+4915123456789`` → ``+49 151****6789``. Short numbers keep only the last two digits."""
    if not value:
        return ""
    # Fast path for what kehu stores most: a Chinese number in E.164 (+86…), exactly as
    # phonenumbers would split it (exports mask hundreds of thousands of them).
    if value.startswith("+86") and _CN_E164.fullmatch(value):
        national = value[3:]
        return f"{national[:3]}{MASK}{national[-4:]}"
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


def is_masked_echo(field: str, sent: Any, stored: str) -> bool:
    """True when ``sent`` is the masked form of the stored value (a client sending back what
    it was shown): it must leave the stored value as it is, never overwrite it."""
    return (
        field in MASKED_FIELDS
        and bool(stored)
        and isinstance(sent, str)
        and MASK in sent
        and sent.strip() == mask_value(field, stored)
    )


def without_masked_echoes(obj: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the masked fields sent back in their masked form."""
    return {
        name: value
        for name, value in fields.items()
        if not is_masked_echo(name, value, getattr(obj, name, "") or "")
    }


def check_masked_changes(actor: Any, obj: Any, clean: dict[str, Any]) -> None:
    """A reader who may not reveal the masked fields may not change them either (they
    could not see what they overwrite). Raises RuleViolation naming each such field."""
    if can_reveal(actor):
        return
    from django.utils.translation import gettext as _

    from kehu.core.models import RuleViolation

    refused = {
        name: _("Your role may not see or change this field.")
        for name in MASKED_FIELDS
        if name in clean and (clean[name] or "") != (getattr(obj, name, "") or "")
    }
    if refused:
        raise RuleViolation(refused, code="rule")

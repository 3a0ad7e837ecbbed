"""Likely duplicates of a customer about to be created (or imported, or edited).

Four rules, each one indexed lookup (no scan, however many customers there are):

| rule | lookup | index |
| --- | --- | --- |
| ``mobile`` | same normalised mobile: ``mobile_digits`` (last 11 digits of the E.164 form) | ``mobile_digits`` |
| ``email`` | same email, any case: ``email_lower`` | ``email_lower`` |
| ``name_company`` | same name and same (non-empty) company, any case; for an organisation the same name alone | ``cust_name_idx`` (the name in the usual case forms: as typed, lower, upper, title) |
| ``pinyin_city`` | same full pinyin of a Chinese name and the same city (张三/张叁 in 上海) | ``cust_pinyin_city_idx`` |

**What a user learns about a match they may not see.** A salesperson must not create a
second file for someone a colleague already looks after, and two salespeople should not
fight over one customer. So every match is reported with its reasons and *whose* it is:
"yours", a colleague's (by name, so they know whom to ask) or the public pool's. The
customer's own details (name, company, city, id) are shown only when the actor may open
the file, or for a pool customer to someone who may claim from the pool (the pool list
shows them anyway). Nothing else about an invisible match is revealed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.db.models import QuerySet

from kehu.core.access import has_perm, scoped
from kehu.core.permissions import Perm
from kehu.customers import search_keys
from kehu.customers.choices import Kind
from kehu.customers.models import Customer

REASONS = ("mobile", "email", "name_company", "pinyin_city")
PER_RULE = 20  # candidates looked at per rule; a person has few real duplicates
HELD_BY_YOU, HELD_BY_COLLEAGUE, HELD_BY_POOL = "you", "colleague", "pool"


@dataclass
class DuplicateMatch:
    """One existing customer that looks like the one being entered."""

    pk: int
    reasons: list[str] = field(default_factory=list)
    held_by: str = HELD_BY_COLLEAGUE
    owner_name: str = ""
    # Shown only when the actor may open the file (``visible``) or claim it from the pool.
    shown: bool = False
    visible: bool = False
    customer: Customer | None = None

    @property
    def customer_id(self) -> int | None:
        return self.pk if self.shown else None

    @property
    def name(self) -> str | None:
        return self.customer.name if self.shown and self.customer else None

    @property
    def company(self) -> str | None:
        return self.customer.company if self.shown and self.customer else None

    @property
    def city(self) -> str | None:
        return self.customer.city if self.shown and self.customer else None


def mobile_key(raw: str) -> str:
    """The ``mobile_digits`` a mobile number is stored under ('' if it has too few digits)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, settings.KEHU_PHONE_REGION)
        if phonenumbers.is_valid_number(number):
            raw = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = search_keys.digits(raw)
    return digits[-11:] if len(digits) >= 7 else ""


def _clean(text: str, limit: int) -> str:
    text = "".join(ch for ch in (text or "") if ch.isprintable()).strip()
    return text[:limit]


def name_variants(name: str) -> list[str]:
    """The case forms a name is usually stored in, for an indexed ``IN`` lookup."""
    forms = [name, name.lower(), name.upper(), name.title(), name.capitalize()]
    return list(dict.fromkeys(form for form in forms if form))


def rule_queries(
    *,
    name: str = "",
    company: str = "",
    mobile: str = "",
    email: str = "",
    city: str = "",
    kind: str = "",
    exclude_id: int | None = None,
) -> dict[str, QuerySet[Customer, int]]:
    """One queryset of candidate ids per rule that applies to the given values."""
    name, company, city = _clean(name, 200), _clean(company, 200), _clean(city, 50)
    email = _clean(email, 254).lower()
    # Deleted rows are dropped afterwards, on the few candidates: a ``deleted_at IS NULL``
    # here could lead the planner to the (unselective) deleted_at index instead.
    live = Customer.all_objects.order_by()
    if exclude_id:
        live = live.exclude(pk=exclude_id)
    queries: dict[str, QuerySet[Customer]] = {}
    key = mobile_key(_clean(mobile, 64))
    if key:
        queries["mobile"] = live.filter(mobile_digits=key)
    if email:
        queries["email"] = live.filter(email_lower=email)
    if name and (company or kind == Kind.ORGANISATION):
        same_name = live.filter(name__in=name_variants(name), name__iexact=name)
        if company:
            queries["name_company"] = same_name.filter(company__iexact=company)
        else:
            queries["name_company"] = same_name.filter(kind=Kind.ORGANISATION)
    pinyin = search_keys.pinyin_full(name) if name else ""
    if pinyin and city:
        queries["pinyin_city"] = live.filter(name_pinyin=pinyin[:400], city=city)
    return {rule: qs.values_list("pk", flat=True)[:PER_RULE] for rule, qs in queries.items()}


def likely_duplicates(
    *,
    actor: Any,
    name: str = "",
    company: str = "",
    mobile: str = "",
    email: str = "",
    city: str = "",
    kind: str = "",
    exclude_id: int | None = None,
) -> list[DuplicateMatch]:
    """Existing live customers that look like these values, most reasons first."""
    if not has_perm(actor, Perm.VIEW_CUSTOMERS):
        return []
    matches: dict[int, DuplicateMatch] = {}
    queries = rule_queries(
        name=name,
        company=company,
        mobile=mobile,
        email=email,
        city=city,
        kind=kind,
        exclude_id=exclude_id,
    )
    for rule, ids in queries.items():
        for pk in ids:
            matches.setdefault(pk, DuplicateMatch(pk=pk)).reasons.append(rule)
    if not matches:
        return []
    rows = Customer.objects.filter(pk__in=matches).select_related("owner")
    visible = set(scoped(actor, Perm.VIEW_CUSTOMERS, rows).values_list("pk", flat=True))
    can_claim = has_perm(actor, Perm.CLAIM_CUSTOMERS)
    for customer in rows:
        match = matches[customer.pk]
        match.customer = customer
        match.visible = customer.pk in visible
        if customer.owner_id is None:
            match.held_by = HELD_BY_POOL
        elif customer.owner_id == actor.pk:
            match.held_by = HELD_BY_YOU
        else:
            match.held_by = HELD_BY_COLLEAGUE
            match.owner_name = customer.owner.get_full_name() if customer.owner else ""
        match.shown = match.visible or (match.held_by == HELD_BY_POOL and can_claim)
    found = [m for m in matches.values() if m.customer is not None]
    return sorted(found, key=lambda m: (-len(m.reasons), m.pk))

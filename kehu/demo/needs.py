"""Demo contacts and needs: the people at organisation customers (with their roles) and the
needs learnt from about a third of all customers, classified as DOMAIN §3 asks.

Bilingual like the customers: English names and roles in Hong Kong and Taipei some of the
time, Chinese elsewhere. Written with ``bulk_create``, one transaction per batch.
"""

from __future__ import annotations

import random
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from kehu.customers.choices import Kind
from kehu.customers.models import Contact, Customer
from kehu.demo.names import chinese_name, english_name, mobile_number, pinyin_username
from kehu.needs.choices import (
    DecisionFactor,
    NeedDomain,
    NeedNature,
    NeedSource,
    NeedStatus,
    Priority,
)
from kehu.needs.models import Need

CONTACTS_PER_ORGANISATION = [1] * 10 + [2] * 7 + [3] * 3
NEEDS_SHARE = 1 / 3
NEEDS_PER_CUSTOMER = [1] * 5 + [2] * 3 + [3] * 2
ABROAD = {"香港", "台北"}

# (Chinese role, English role); the first of a company's contacts is its primary one.
ROLES = [
    ("总经理", "General manager"),
    ("采购经理", "Purchasing manager"),
    ("财务主管", "Finance lead"),
    ("行政主管", "Office manager"),
    ("店长", "Store manager"),
    ("技术总监", "Technical director"),
    ("仓库主管", "Warehouse supervisor"),
    ("老板娘", "Co-owner"),
]

P, L = NeedDomain.PRODUCTION, NeedDomain.LIVING
M, S = NeedNature.MATERIAL, NeedNature.SPIRITUAL
Q, R, D, C, N = (
    DecisionFactor.QUALITY,
    DecisionFactor.RELIABILITY,
    DecisionFactor.DELIVERY_SPEED,
    DecisionFactor.COURTESY,
    DecisionFactor.NONE,
)
# (Chinese title, English title, domain, nature, factor) — for organisations …
ORGANISATION_NEEDS = [
    ("希望48小时内到货", "Delivery within 48 hours", P, M, D),
    (
        "每批货的质量要稳定，不要再有色差",
        "Steady quality in every batch, no more colour shifts",
        P,
        M,
        Q,
    ),
    ("设备连续运行不停机", "Machines that run without stopping", P, M, R),
    ("需要月结账期60天", "60-day monthly payment terms", P, M, N),
    ("希望有专人对接，电话能打通", "One named contact who answers the phone", P, S, C),
    ("员工操作培训", "Operator training for their staff", P, S, N),
    ("售后上门要提前预约、守时", "Service visits booked ahead and on time", P, S, C),
    ("包装要能直接上货架", "Shelf-ready packaging", P, M, N),
    ("节日员工福利团购", "Holiday gift boxes for their employees", L, M, N),
    ("年会场地与活动策划", "Venue and programme for the annual party", L, S, N),
]
# … and for people.
PERSONAL_NEEDS = [
    ("家用净水器，滤芯按时更换", "Home water filter with timely cartridge changes", L, M, R),
    ("周末能送货上门", "Weekend home delivery", L, M, D),
    ("会员生日关怀", "A birthday greeting as a member", L, S, C),
    ("孩子的兴趣课程", "Hobby classes for the children", L, S, N),
    ("产品要正品、有保修", "Genuine products with a warranty", L, M, Q),
    ("门店服务态度要好", "Friendly staff in the shop", L, S, C),
    ("想了解新品体验活动", "Invitations to try new products", L, S, N),
    ("小店进货希望小批量、快周转", "Small, fast orders for their own little shop", P, M, D),
]
DETAILS = [
    (
        "面谈时提到，上次延误影响了他们的生产计划。",
        "Said in a meeting: the last delay upset their plan.",
    ),
    ("客户评价卡上写的意见。", "Written on a customer evaluation card."),
    ("问卷里打了低分，需要回访。", "Low score in the questionnaire; call back."),
    ("投诉后跟进时了解到的。", "Learnt while following up a complaint."),
    ("", ""),
]
SOURCES = (
    [NeedSource.INTERVIEW] * 5
    + [NeedSource.QUESTIONNAIRE] * 2
    + [NeedSource.COMPLAINT] * 2
    + [NeedSource.EVALUATION_CARD] * 2
    + [NeedSource.OTHER]
)
PRIORITIES = [Priority.HIGH] * 2 + [Priority.MEDIUM] * 5 + [Priority.LOW] * 3
STATUSES = (
    [NeedStatus.OPEN] * 5
    + [NeedStatus.IN_PROGRESS] * 3
    + [NeedStatus.MET] * 3
    + [NeedStatus.DECLINED]
)


@lru_cache(maxsize=20_000)
def _handle(name: str) -> str:
    # Names repeat a lot; their pinyin is worked out once.
    return pinyin_username(name)


def _contacts(rng: random.Random, customer_id: int, city: str) -> list[Contact]:
    contacts = []
    roles = rng.sample(ROLES, k=rng.choice(CONTACTS_PER_ORGANISATION))
    for position, (role_zh, role_en) in enumerate(roles):
        english = city in ABROAD and rng.random() < 0.4
        name = english_name(rng) if english else chinese_name(rng)
        handle = name.lower().replace(" ", ".") if english else _handle(name)
        if city == "香港":
            mobile = f"+852{rng.choice('569')}{rng.randrange(10**7):07d}"
        else:
            mobile = "+86" + mobile_number(rng)
        contacts.append(
            Contact(
                customer_id=customer_id,
                name=name,
                role=role_en if english else role_zh,
                mobile=mobile,
                email=f"{handle}.{customer_id}@demo.kehu.local" if rng.random() < 0.6 else "",
                wechat=f"wx_{handle}{rng.randrange(100, 1000)}" if rng.random() < 0.5 else "",
                is_primary=position == 0,
            )
        )
    return contacts


def _needs(rng: random.Random, customer_id: int, row: tuple[Any, ...], now: Any) -> list[Need]:
    _pk, kind, city, owner_id, created_at = row
    english = city in ABROAD and rng.random() < 0.4
    pool = ORGANISATION_NEEDS if kind == Kind.ORGANISATION else PERSONAL_NEEDS
    needs = []
    for zh, en, domain, nature, factor in rng.sample(pool, k=rng.choice(NEEDS_PER_CUSTOMER)):
        detail_zh, detail_en = rng.choice(DETAILS)
        since = max((now - created_at).days, 1)
        when = now - timedelta(days=rng.randrange(since), seconds=rng.randrange(86400))
        needs.append(
            Need(
                customer_id=customer_id,
                title=en if english else zh,
                description=detail_en if english else detail_zh,
                domain=domain,
                nature=nature,
                factor=factor,
                source=rng.choice(SOURCES),
                priority=rng.choice(PRIORITIES),
                status=rng.choice(STATUSES),
                author_id=owner_id,
                created_at=when,
            )
        )
    return needs


def make_contacts_and_needs(
    rng: random.Random, *, after_id: int = 0, batch_size: int = 2000
) -> tuple[int, int]:
    """Give the customers with ids above ``after_id`` their contacts and needs.
    Return (contacts, needs) written."""
    now = timezone.now()
    customers = Customer.objects.filter(pk__gt=after_id).order_by("pk")
    fields = ("pk", "kind", "city", "owner_id", "created_at")
    contacts_written = needs_written = 0
    last = after_id
    while True:
        rows = list(customers.filter(pk__gt=last).values_list(*fields)[:batch_size])
        if not rows:
            break
        last = rows[-1][0]
        contacts: list[Contact] = []
        needs: list[Need] = []
        for row in rows:
            pk, kind, city = row[0], row[1], row[2]
            if kind == Kind.ORGANISATION:
                contacts.extend(_contacts(rng, pk, city))
            if rng.random() < NEEDS_SHARE:
                needs.extend(_needs(rng, pk, row, now))
        with transaction.atomic():
            Contact.objects.bulk_create(contacts, batch_size=batch_size)
            Need.objects.bulk_create(needs, batch_size=batch_size)
        contacts_written += len(contacts)
        needs_written += len(needs)
    return contacts_written, needs_written


def last_customer_id() -> int:
    """The highest customer id so far: the demo's new customers come after it."""
    return Customer.all_objects.order_by("-pk").values_list("pk", flat=True).first() or 0

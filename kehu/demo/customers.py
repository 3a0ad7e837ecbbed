"""Demo customers: people and companies across Chinese cities, some in the public pool."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from kehu.customers.choices import Kind, Source, Stage, Tier
from kehu.customers.models import Customer, Tag
from kehu.customers.services import compute_search_keys
from kehu.demo.names import CITIES, chinese_name, english_name, mobile_number

COMPANY_PARTS = [
    "明珠",
    "华强",
    "天成",
    "恒信",
    "锦程",
    "宏达",
    "金桥",
    "新锐",
    "东方",
    "长青",
    "瑞丰",
    "盛世",
]
COMPANY_KINDS = [
    "贸易有限公司",
    "电子科技有限公司",
    "餐饮管理有限公司",
    "美容美发店",
    "网络科技有限公司",
    "建材有限公司",
]
INDUSTRIES = ["零售", "制造", "餐饮", "美容", "互联网", "建筑", "教育", "物流"]
PROVINCE_OF = {
    "上海": "上海",
    "广州": "广东",
    "北京": "北京",
    "杭州": "浙江",
    "深圳": "广东",
    "成都": "四川",
    "南京": "江苏",
    "苏州": "江苏",
    "武汉": "湖北",
    "香港": "香港",
    "台北": "台湾",
}
TAGS = ["VIP", "展会2026", "老客户", "转介绍", "价格敏感", "Key account"]
STAGES = (
    [Stage.PROSPECT] * 3
    + [Stage.POTENTIAL] * 2
    + [Stage.ACTIVE] * 5
    + [Stage.AT_RISK, Stage.CHURNED, Stage.WON_BACK]
)
TIERS = [Tier.KEY] + [Tier.ORDINARY] * 4 + [Tier.SMALL] * 3
SOURCES = [
    Source.SURVEY,
    Source.LUCKY_DRAW,
    Source.REFERRAL,
    Source.WEBSITE,
    Source.FAIR,
    Source.WALK_IN,
]


def make_customers(
    rng: random.Random, count: int, owners: list[Any], batch_size: int = 2000
) -> int:
    """Create ``count`` customers in batches; ~15 % sit in the pool. Return rows written."""
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    now = timezone.now()
    written = 0
    through = Customer.tags.through
    while written < count:
        batch = []
        for _ in range(min(batch_size, count - written)):
            organisation = rng.random() < 0.35
            city = rng.choice(CITIES)
            person = (
                english_name(rng)
                if city in {"香港", "台北"} and rng.random() < 0.4
                else chinese_name(rng)
            )
            company = (
                f"{city}{rng.choice(COMPANY_PARTS)}{rng.choice(COMPANY_KINDS)}"
                if organisation
                else ""
            )
            owner = None if rng.random() < 0.15 else rng.choice(owners)
            days_ago = rng.randrange(0, 720)
            customer = Customer(
                kind=Kind.ORGANISATION if organisation else Kind.INDIVIDUAL,
                name=company or person,
                company=company,
                industry=rng.choice(INDUSTRIES) if organisation else "",
                mobile="+86" + mobile_number(rng),
                email=f"c{written + len(batch)}@demo.kehu.local" if rng.random() < 0.5 else "",
                city=city,
                province=PROVINCE_OF.get(city, ""),
                source=rng.choice(SOURCES),
                stage=rng.choice(STAGES),
                tier=rng.choice(TIERS),
                owner=owner,
                team_id=owner.team_id if owner else None,
                department_id=owner.department_id if owner else None,
                pooled_at=None if owner else now - timedelta(days=rng.randrange(0, 60)),
                created_at=now - timedelta(days=days_ago),
                last_contact_at=now - timedelta(days=rng.randrange(0, days_ago + 1)),
                verified_at=now - timedelta(days=rng.randrange(0, 400)),
            )
            compute_search_keys(customer)
            batch.append(customer)
        Customer.objects.bulk_create(batch, batch_size=batch_size)
        links = [
            through(customer_id=c.pk, tag_id=rng.choice(tags).pk)
            for c in batch
            if c.pk is not None and rng.random() < 0.3
        ]
        through.objects.bulk_create(links, ignore_conflicts=True)
        written += len(batch)
    return written

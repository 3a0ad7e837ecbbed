"""Demo customers: people and companies across Chinese cities, some in the public pool.

Written in bulk so that ``kehu demo --customers 1000000`` takes minutes, not hours: rows
are built as plain tuples and sent with ``COPY`` on PostgreSQL and ``executemany`` on
SQLite, one transaction per batch. Search keys are computed once per distinct name
(names repeat) with the same functions the services use, so searching a demo customer
behaves exactly as searching one entered by hand.
"""

from __future__ import annotations

import contextlib
import itertools
import random
from bisect import bisect
from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kehu.core.bulk import BulkWriter
from kehu.customers import search_keys
from kehu.customers.choices import Kind, Size, Source, Stage, Tier
from kehu.customers.models import Customer, Tag
from kehu.demo.names import CITIES, GIVEN, SURNAMES, english_name, mobile_number

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
    "鼎盛",
    "万通",
    "安泰",
    "中联",
    "嘉禾",
    "永辉",
    "博远",
    "汇丰源",
]
COMPANY_KINDS = [
    "贸易有限公司",
    "电子科技有限公司",
    "餐饮管理有限公司",
    "美容美发店",
    "网络科技有限公司",
    "建材有限公司",
    "物流有限公司",
    "教育咨询有限公司",
    "服装店",
    "汽车维修中心",
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
# Bigger cities hold more customers.
CITY_WEIGHTS = {"上海": 18, "广州": 12, "北京": 16, "杭州": 9, "深圳": 14, "成都": 8}
TAGS = [
    "VIP",
    "展会2026",
    "老客户",
    "转介绍",
    "价格敏感",
    "Key account",
    "团购",
    "会员",
    "投诉过",
    "线上客户",
    "大客户",
    "Newsletter",
]
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
SIZES = [Size.MICRO] * 5 + [Size.SMALL] * 3 + [Size.MEDIUM] * 2 + [Size.LARGE]
POOL_SHARE = 0.15
ORGANISATION_SHARE = 0.35
TAGGED_SHARE = 0.3
DEFAULT_BATCH = 20_000
FTS_TABLE = "customers_customer_fts"  # SQLite only; see customers migration 0007

# The fields a demo row sets; every other column takes its model default.
VARIABLE_FIELDS = (
    "id",
    "kind",
    "name",
    "company",
    "industry",
    "size",
    "mobile",
    "email",
    "wechat",
    "province",
    "city",
    "gender",
    "source",
    "owner_id",
    "team_id",
    "department_id",
    "stage",
    "tier",
    "last_contact_at",
    "verified_at",
    "pooled_at",
    "assigned_at",
    "created_at",
    "updated_at",
    "mobile_digits",
    "email_lower",
    "name_pinyin",
    "name_initials",
    "search_text",
)


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, items: Sequence[Any], cum: list[float]) -> Any:
    return items[bisect(cum, rng.random() * cum[-1])]


class _Names:
    """Chinese names with a realistic skew: 王, 李, 张 are far commoner than 庞."""

    def __init__(self) -> None:
        self.surnames = list(SURNAMES)
        self.surname_cum = _cumulative([1 / (rank + 3) for rank in range(len(self.surnames))])
        self.given = list(GIVEN)

    def chinese(self, rng: random.Random) -> str:
        surname = _pick(rng, self.surnames, self.surname_cum)
        given_len = 1 if rng.random() < 0.35 else 2
        return surname + "".join(rng.choice(self.given) for _ in range(given_len))


class _Keys:
    """Search keys of a (name, company) pair, computed once: pypinyin costs ~0.1 ms."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
        self.grams: dict[tuple[str, str, str], str] = {}

    def of(self, name: str, company: str) -> tuple[str, str, list[str]]:
        key = (name, company)
        hit = self.cache.get(key)
        if hit is None:
            name_pinyin = search_keys.pinyin_full(name)
            name_initials = search_keys.pinyin_initials(name)
            # The same parts, in the same order, as services.compute_search_keys, already
            # normalised (lower case, single spaces) and without repeats.
            words: list[str] = []
            for part in (
                name,
                company,
                name_pinyin,
                name_initials,
                search_keys.pinyin_full(company),
                search_keys.pinyin_initials(company),
            ):
                part = " ".join(part.lower().split())
                if part and part not in words:
                    words.append(part)
            hit = self.cache[key] = (name_pinyin, name_initials, words)
        return hit

    def search_text(
        self,
        name: str,
        company: str,
        words: list[str],
        extra: tuple[str, ...],
        city: str,
        tags: tuple[str, ...] = (),
    ) -> str:
        """search_keys.search_text(parts) for a demo row, its n-gram words cached: they
        depend on the Chinese words (name, company, city, tags) and their initials only.
        ``extra`` are the row's own parts (digits, email, WeChat), already normalised;
        ``tags`` its tag names, lower-cased and sorted (as services.search_key_values)."""
        words = list(words)
        for part in (*extra, city, *tags):
            if part and part not in words:
                words.append(part)
        key = (name, company, city, *tags)
        grams = self.grams.get(key)
        if grams is None:
            full = search_keys.with_han_grams(words)
            grams = self.grams[key] = full[len(search_keys.SEPARATOR.join(words)) :]
        return search_keys.SEPARATOR.join(words) + grams


class _Writer(BulkWriter):
    """kehu.core.bulk's raw bulk inserts, with the demo's own settings."""

    def __init__(self) -> None:
        super().__init__()
        if self.vendor == "sqlite":
            with connection.cursor() as cursor:
                # 256 MB of page cache for this connection: the customer table has over a
                # dozen indexes, and random inserts into them thrash the default 2 MB.
                cursor.execute("PRAGMA cache_size = -262144")

    def fts_in_bulk(  # type: ignore[override]
        self, first_id: int, last_id: int
    ) -> contextlib.AbstractContextManager[None]:
        return super().fts_in_bulk(Customer._meta.db_table, FTS_TABLE, first_id, last_id)

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk load. SQLite has none until ANALYZE runs,
        and without them it prefers any equality index (``deleted_at IS NULL``) over the
        list's ordering index: a search for a common term as an administrator then sorts
        every customer instead of reading the first 50 in order."""
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                # Unsampled: a sampled ANALYZE caps rows-per-key near its limit, and
                # deleted_at IS NULL looks selective again. ~15 s at a million customers.
                cursor.execute("PRAGMA analysis_limit = 0")
                cursor.execute("ANALYZE customers_customer")
                cursor.execute("ANALYZE customers_customer_tags")
            elif self.vendor == "postgresql":
                cursor.execute("ANALYZE customers_customer, customers_customer_tags")


def _constant_columns(writer: _Writer) -> tuple[list[str], tuple[Any, ...]]:
    """Columns a demo row leaves at their default, with the default as stored."""
    return writer.defaults(Customer, VARIABLE_FIELDS)


def make_customers(
    rng: random.Random, count: int, owners: list[Any], batch_size: int = DEFAULT_BATCH
) -> int:
    """Create ``count`` customers in bulk; ~15 % sit in the pool. Return rows written.

    Owners are spread unevenly (a few salespeople hold many customers, most hold some);
    stages, tiers, sources, cities and tags follow fixed shares. Each batch is its own
    transaction, so a million rows never sit in one.
    """
    if count <= 0 or not owners:
        return 0
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    tag_name = {tag.pk: tag.name.strip().lower() for tag in tags}
    tag_cum = _cumulative([1 / (rank + 1) for rank in range(len(tags))])
    owner_cum = _cumulative([rng.uniform(0.3, 3.0) for _ in owners])
    cities = list(CITIES)
    city_cum = _cumulative([CITY_WEIGHTS.get(city, 4) for city in cities])
    names, keys, writer = _Names(), _Keys(), _Writer()
    constant_columns, constants = _constant_columns(writer)
    by_name = {field.attname: str(field.column) for field in Customer._meta.concrete_fields}
    columns = [by_name[f] for f in VARIABLE_FIELDS] + constant_columns
    through = Customer.tags.through
    through_table = str(through._meta.db_table)
    now = timezone.now().astimezone(UTC)
    written = 0
    while written < count:
        size = min(batch_size, count - written)
        with transaction.atomic():
            ids = writer.reserve_ids(Customer, size)
            rows: list[tuple[Any, ...]] = []
            links: list[tuple[int, int]] = []
            for pk in ids:
                organisation = rng.random() < ORGANISATION_SHARE
                city = _pick(rng, cities, city_cum)
                abroad = city in {"香港", "台北"}
                person = english_name(rng) if abroad and rng.random() < 0.4 else names.chinese(rng)
                company = (
                    f"{city}{rng.choice(COMPANY_PARTS)}{rng.choice(COMPANY_KINDS)}"
                    if organisation
                    else ""
                )
                name = company or person
                name_pinyin, name_initials, words = keys.of(name, company)
                owner = None if rng.random() < POOL_SHARE else _pick(rng, owners, owner_cum)
                if city == "香港":
                    mobile = f"+852{rng.choice('569')}{rng.randrange(10**7):07d}"
                else:
                    mobile = "+86" + mobile_number(rng)
                handle = keys.of(person, "")[0] or person.lower().replace(" ", ".")
                email = f"{handle}{pk}@demo.kehu.local" if rng.random() < 0.5 else ""
                wechat = f"wx_{handle}{rng.randrange(100, 10000)}" if rng.random() < 0.4 else ""
                days_ago = rng.randrange(0, 720)
                created = now - timedelta(days=days_ago, seconds=rng.randrange(86400))
                last_contact = now - timedelta(
                    days=rng.randrange(0, days_ago + 1), seconds=rng.randrange(86400)
                )
                updated = max(created, last_contact) + timedelta(seconds=rng.randrange(3600))
                updated = min(updated, now)
                digits = search_keys.digits(mobile)
                rows.append(
                    (
                        pk,
                        Kind.ORGANISATION if organisation else Kind.INDIVIDUAL,
                        name,
                        company,
                        rng.choice(INDUSTRIES) if organisation else "",
                        rng.choice(SIZES) if organisation else "",
                        mobile,
                        email,
                        wechat,
                        PROVINCE_OF.get(city, ""),
                        city,
                        "" if organisation else rng.choice(("female", "male", "")),
                        rng.choice(SOURCES),
                        owner.pk if owner else None,
                        owner.team_id if owner else None,
                        owner.department_id if owner else None,
                        rng.choice(STAGES),
                        rng.choice(TIERS),
                        writer.when(last_contact),
                        writer.when(now - timedelta(days=rng.randrange(0, 400))),
                        None if owner else writer.when(now - timedelta(days=rng.randrange(60))),
                        writer.when(created) if owner else None,
                        writer.when(created),
                        writer.when(updated),
                        digits[-11:],
                        email,
                        name_pinyin,
                        name_initials,
                    )
                )
                chosen: set[int] = set()
                if rng.random() < TAGGED_SHARE:
                    chosen = {_pick(rng, tags, tag_cum).pk}
                    if rng.random() < 0.25:
                        chosen.add(_pick(rng, tags, tag_cum).pk)
                    links.extend((pk, tag_pk) for tag_pk in sorted(chosen))
                tag_words = tuple(sorted({tag_name[t] for t in chosen}))
                text = keys.search_text(
                    name, company, words, (digits, email, wechat), city, tag_words
                )
                rows[-1] = (*rows[-1], text, *constants)
            with writer.fts_in_bulk(ids[0], ids[-1]):
                writer.write(Customer._meta.db_table, columns, rows)
            writer.write(through_table, ["customer_id", "tag_id"], links)
        written += size
    writer.analyze()
    return written


def default_users(customers: int) -> int:
    """Colleagues for a demo of this many customers: 40, or one per 400 customers."""
    return max(40, customers // 400)


__all__ = ["TAGS", "default_users", "make_customers"]

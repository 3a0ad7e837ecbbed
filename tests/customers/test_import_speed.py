"""The import's fast paths give exactly what the slow ones gave: the cached phone check,
the cached pinyin, and the raw bulk insert (COPY / executemany) against the ORM."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from django.db import connection
from django.utils import timezone
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

from kehu.customers import search, search_keys
from kehu.customers import services as customer_services
from kehu.customers.importers import CustomerImporter, _choice_lookup, _State
from kehu.customers.models import Customer, CustomerChange
from kehu.customers.selectors import CustomerFilters, customer_list
from kehu.demo.names import GIVEN, SURNAMES
from tests.dataio.helpers import csv_bytes, import_file

INVALID = "Enter a valid phone number"


# --- Phones --------------------------------------------------------------------------------


def _slow_phone(raw: str) -> tuple[str, bool]:
    """normalise_phone as it was before the fast path: phonenumbers for every number."""
    raw = raw.strip()
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return raw, False
    if not phonenumbers.is_valid_number(number):
        return raw, False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


def _fast_phone(raw: str) -> tuple[str, bool]:
    errors: dict[str, str] = {}
    value = customer_services.normalise_phone(raw, field="mobile", errors=errors)
    return value, not errors


def _written(rng: random.Random, national: str) -> str:
    a, b, c = national[:3], national[3:7], national[7:]
    return rng.choice(
        [
            national,
            f"{a} {b} {c}",
            f"{a}-{b}-{c}",
            f"+86{national}",
            f"+86 {a} {b} {c}",
            f"+86-{a}-{b}-{c}",
            f"  {a} {b}{c} ",
            f"{a}{b} {c}",
        ]
    )


def test_cn_mobile_fast_path_matches_phonenumbers_on_a_random_sample(settings):
    settings.KEHU_PHONE_REGION = "CN"
    customer_services._cn_mobile_valid.clear()
    rng = random.Random(20260101)
    numbers = [f"1{rng.randrange(30, 100)}{rng.randrange(10**8):08d}" for _ in range(15_000)]
    # Every 4-digit prefix 13xx–19xx at least once, and the narrow ranges (1610x, 1740x).
    numbers += [f"{p}{rng.randrange(10**7):07d}" for p in range(1300, 2000)]
    numbers += [f"1610{d}{rng.randrange(10**6):06d}" for d in range(10)]
    numbers += [f"1740{d}{rng.randrange(10**6):06d}" for d in range(10) for _ in range(3)]
    for national in numbers:
        raw = _written(rng, national)
        assert _fast_phone(raw) == _slow_phone(raw), raw
    assert customer_services._cn_mobile_valid  # the cache was used


def test_cn_validity_check_matches_phonenumbers_on_every_prefix():
    rng = random.Random(20260102)
    numbers = [f"{p}{rng.randrange(10**7):07d}" for p in range(1000, 2000) for _ in range(3)]
    numbers += [f"1{rng.randrange(10**10):010d}" for _ in range(20_000)]
    numbers += [f"{p}{rng.randrange(10**6):06d}" for p in range(16100, 16110)]
    numbers += [f"{p}{rng.randrange(10**6):06d}" for p in range(17400, 17410)]
    for national in numbers:
        expected = phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=86, national_number=int(national))
        )
        assert customer_services._cn_national_valid(national) == expected, national


def test_cn_mobile_validity_depends_on_the_first_seven_digits_only():
    rng = random.Random(7)
    for _ in range(3000):
        prefix = f"1{rng.randrange(30, 100)}{rng.randrange(10**5):05d}"
        verdicts = {
            phonenumbers.is_valid_number(
                phonenumbers.parse(f"+86{prefix}{rng.randrange(10**4):04d}")
            )
            for _ in range(4)
        }
        assert len(verdicts) == 1, prefix


@pytest.mark.parametrize(
    "raw",
    ["+852 9123 4567", "010 8888 8888", "17912345678", "12345", "138123456789", "１３８１２３４５６７８",
     "(+86) 138 1234 5678", "+8613812345678 ext 3", "0086 138 1234 5678", "11012345678"],
)  # fmt: skip
def test_other_numbers_still_go_through_phonenumbers(raw):
    assert _fast_phone(raw) == _slow_phone(raw)


def test_fast_path_respects_another_default_region(settings):
    settings.KEHU_PHONE_REGION = "HK"
    errors: dict[str, str] = {}
    # Without +86 the number is read in the default region (not a valid HK number).
    assert customer_services.normalise_phone("13812345678", field="m", errors=errors)
    assert errors
    errors = {}
    value = customer_services.normalise_phone("+86 138 1234 5678", field="m", errors=errors)
    assert value == "+8613812345678" and not errors


# --- Pinyin --------------------------------------------------------------------------------


def _slow_full(text: str) -> str:
    if not search_keys.has_han(text):
        return ""
    return "".join(lazy_pinyin(text, errors="default")).lower().replace(" ", "")


def _slow_initials(text: str) -> str:
    if not search_keys.has_han(text):
        return ""
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(p[:1] for p in letters).lower()


def test_cached_pinyin_matches_pypinyin_on_random_text():
    rng = random.Random(11)
    phrases = sorted(PHRASES_DICT)[::13]
    rare = "".join(chr(rng.randrange(0x3400, 0xA000)) for _ in range(400))
    pool = SURNAMES + GIVEN + "重庆长沙银行有限公司〇㐀䶵豈" + rare
    others = ["", " Ltd", "A b", "12", "Σ", "İ", "-", "ABC ", "𠀀"]
    texts = ["重庆", "长沙银行", "ABC公司", " 张三 ", "张三abc李四", "〇", "ΣΑΣ 张", ""]
    for _ in range(12_000):
        kind = rng.random()
        if kind < 0.4:
            text = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
            )
        elif kind < 0.6:
            text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
        elif kind < 0.8:
            text = rng.choice(phrases) + rng.choice(pool) + rng.choice(others) + rng.choice(phrases)
        else:
            text = "".join(rng.choice(pool + "abc XYZ-1_ ΣİÜ𠀀") for _ in range(rng.randint(0, 15)))
        texts.append(text)
    search_keys.pinyin_full.cache_clear()
    search_keys.pinyin_initials.cache_clear()
    for text in texts:
        assert search_keys.pinyin_full(text) == _slow_full(text), text
        assert search_keys.pinyin_initials(text) == _slow_initials(text), text


def test_search_key_values_match_compute_search_keys():
    customer = Customer(
        name="深圳华强 Ltd", company="华强电子", mobile="+8613812345678", phone="+862088888888",
        email="A@B.cn", wechat="wx_Z", city="深圳",
    )  # fmt: skip
    customer_services.compute_search_keys(customer)
    values = customer_services.search_key_values(
        name=customer.name, company=customer.company, mobile=customer.mobile,
        phone=customer.phone, email=customer.email, wechat=customer.wechat, city=customer.city,
    )  # fmt: skip
    assert values == tuple(getattr(customer, f) for f in customer_services.SEARCH_KEY_FIELDS)
    assert customer.name_initials == "szhq" and "\x1fhq\x1f" in customer.search_text


# --- Raw bulk insert against the ORM -------------------------------------------------------

HEADER = ["姓名", "手机", "邮箱", "公司", "城市", "省份", "性别", "生日", "标签", "备注", "阶段"]
SKIP = {"id", "created_at", "updated_at", "assigned_at", "verified_at"}


def _csv_rows() -> list[list[str]]:
    return [
        ["张三", "138 1234 5678", "ZS@Example.cn", "", "深圳", "广东", "男", "1990-03-05",
         "VIP，展会", "老客户", "活跃"],
        ["华强电子", "+86 139 0000 1111", "", "华强电子", "深圳", "", "", "", "vip, VIP", "", ""],
        ["Alice Wong", "+852 9123 4567", "alice@example.com", "Acme 公司", "香港", "", "女",
         "", "", "line1\nline2", "潜在"],
        ["李娜", "", "", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip


@pytest.mark.django_db
def test_bulk_insert_writes_what_the_orm_would(owner):
    job = import_file(owner, "c.csv", csv_bytes([HEADER, *_csv_rows()]))
    assert job.created_count == 4 and job.rejected_count == 0
    imported = list(Customer.objects.order_by("id"))
    # The same rows the way the ORM wrote them before: Customer(**clean), search keys,
    # bulk_create.
    importer = CustomerImporter()
    state = _State(policy="create", choices=_choice_lookup(), actor=owner)
    now = timezone.now()
    expected = []
    for values in _csv_rows():
        mapped = {job.mapping[h]: v for h, v in zip(HEADER, values, strict=True) if job.mapping[h]}
        row, errors = importer._convert(mapped, state)
        assert row is not None and not errors
        customer = Customer(**row.clean)
        customer.owner_id, customer.team_id = owner.pk, owner.team_id
        customer.department_id = owner.department_id
        customer.assigned_at = customer.verified_at = customer.created_at = now
        customer_services.compute_search_keys(customer, tags=row.tags)
        expected.append(customer)
    Customer.objects.bulk_create(expected)
    fields = [f.attname for f in Customer._meta.concrete_fields if f.attname not in SKIP]
    for got, want in zip(
        imported,
        Customer.objects.filter(pk__in=[c.pk for c in expected]).order_by("id"),
        strict=True,
    ):
        assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
        assert got.created_at == got.updated_at == got.assigned_at == got.verified_at
    first = imported[0]
    assert sorted(first.tags.values_list("name", flat=True)) == ["VIP", "展会"]
    # vip and VIP: one tag, linked once
    assert list(imported[1].tags.values_list("name", flat=True)) == ["VIP"]
    change = CustomerChange.objects.get(customer=first)
    assert (change.field, change.actor_id, change.new_value) == (
        "import",
        owner.pk,
        f"c.csv (#{job.pk})",
    )
    # Found through the search index (FTS5 table on SQLite, trigram index on PostgreSQL).
    for term in ("zs", "张三", "1234", "华强", "alice@"):
        found = customer_list(actor=owner, filters=CustomerFilters(q=term))
        assert any(c.pk in {x.pk for x in imported} for c in found), term
    if connection.vendor == "sqlite" and search.fts_available():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE}")  # noqa: S608
            assert cursor.fetchone()[0] == Customer.all_objects.count()
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [f"{search.FTS_TABLE}_ai"],
            )
            assert cursor.fetchone()[0] == 1  # the per-row trigger is back


@pytest.mark.django_db
def test_ids_are_never_reused_after_a_delete(owner):
    import_file(owner, "a.csv", csv_bytes([HEADER, _csv_rows()[0]]))
    first = Customer.objects.get()
    Customer.all_objects.filter(pk=first.pk).delete()  # purged for good
    import_file(owner, "b.csv", csv_bytes([HEADER, _csv_rows()[3]]))
    assert Customer.objects.get().pk > first.pk

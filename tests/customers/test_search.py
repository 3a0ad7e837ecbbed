"""The customer search box: what matches, on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm),
through both of its paths (few matches: ids from the index; many: the ordering walk), and
the SQLite FTS table kept in sync by triggers."""

from __future__ import annotations

import random

import pytest
from django.db import connection

from kehu.core.services import record_soft_delete
from kehu.customers import filtering, search, search_keys, selectors, services
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters
from tests import factories
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db


def names(actor, q: str) -> set[str]:
    return set(
        selectors.customer_list(actor=actor, filters=CustomerFilters(q=q)).values_list(
            "name", flat=True
        )
    )


@pytest.fixture(params=["few", "many", "sampled", "indexed"])
def path(request, monkeypatch):
    """Run a test through every plan: ids straight from the index (no sample, the usual
    cap), the walk a common term takes after the probe (a cap of 0 sends every query
    there), the plan the scope's sample picks (here: small scopes, so the walk), and the
    one-statement index plan the sample picks for a rare term (forced here)."""
    if request.param == "indexed":
        monkeypatch.setattr(search, "_common_within", lambda within, walk: False)
    if request.param == "few":
        monkeypatch.setattr(search, "SAMPLE_ROWS", 0)
    if request.param == "many":
        monkeypatch.setattr(search, "SAMPLE_ROWS", 0)
        monkeypatch.setattr(search, "CANDIDATE_CAP", 0)
    return request.param


@pytest.fixture
def cast(owner):
    factories.customer(owner, "张三", mobile="13812345678", tags=["VIP"], city="上海")
    factories.customer(
        owner, "李娜", email="lina@example.com", company="深圳华强电子", wechat="lina_sz"
    )
    factories.customer(owner, "Alice Wong", wechat="alice_hk", tags=["Key account"])
    factories.customer(owner, "小张", mobile="+852 9123 4567")
    return owner


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张三", {"张三"}),  # two Han characters: a whole name
        ("张", {"张三", "小张"}),  # one Han character, anywhere in the name
        ("三", {"张三"}),
        ("华强", {"李娜"}),  # two Han characters inside the company name
        ("华强电子", {"李娜"}),
        ("zhangsan", {"张三"}),  # full pinyin
        ("ZhangSan", {"张三"}),
        ("zs", {"张三"}),  # pinyin initials
        ("ZS", {"张三"}),
        ("xz", {"小张"}),
        ("x", {"小张"}),  # one letter: initials containing it
        ("z", {"张三", "小张", "李娜"}),  # (深圳华强电子: szhqdz)
        ("li", {"李娜"}),  # two letters: start of the full pinyin
        ("lina", {"李娜"}),
        ("hq", {"李娜"}),  # initials inside the company's initials (szhqdz)
        ("szhq", {"李娜"}),
        ("5678", {"张三"}),  # phone fragments
        ("1381234", {"张三"}),
        ("138-1234", {"张三"}),
        ("138 1234 5678", {"张三"}),
        ("91234567", {"小张"}),
        ("lina@example", {"李娜"}),  # email
        ("EXAMPLE.COM", {"李娜"}),
        ("alice_hk", {"Alice Wong"}),  # WeChat
        ("lina_sz", {"李娜"}),
        ("wong", {"Alice Wong"}),
        ("Al", {"Alice Wong"}),  # two characters: start of the name as typed
        ("vip", {"张三"}),  # tag, any case
        ("key acc", {"Alice Wong"}),  # part of a tag
        ("上海", {"张三"}),  # city
        ("nobody", set()),
        ("张四", set()),
        ("qq", set()),
    ],
)
def test_matching_rules(cast, path, q, expected):
    assert names(cast, q) == expected


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "%",
        "_",
        "\\",
        "'; DROP TABLE customers_customer; --",
        '"张三" OR "x"',
        "NEAR(a b)",
        "张\x00三",
        "\x1f张\x1f",
        "x" * 10_000,
        "<script>alert(1)</script>",
        "=1+2",
    ],
)
def test_hostile_queries_match_nothing_and_never_fail(cast, path, q):
    found = {c.name for c in Customer.objects.filter(search.search_condition(q))}
    assert found <= {"张三", "小张"}  # "\x1f张\x1f" reads as "张"; nothing else may match
    assert Customer.objects.count() == 4


def test_control_characters_in_the_query_are_spaces(cast):
    assert search.clean_query("  张\x00三\t ") == "张 三"
    assert names(cast, "\x1f张三\x1f") == {"张三"}


def test_scope_still_applies(cast, teammate, outsider):
    assert names(teammate, "张") == set()
    assert names(outsider, "zs") == set()


def test_deleted_and_merged_customers_are_not_found(owner, path):
    admin = factories.user("boss", role_code="administrator")
    keep = factories.customer(owner, "王伟", mobile="13900001111")
    gone = factories.customer(owner, "王伟伟", mobile="13900002222")
    merged = factories.customer(owner, "王伟", mobile="13900003333")
    assert names(owner, "王伟") == {"王伟", "王伟伟"}
    record_soft_delete(actor=owner, obj=gone)
    services.customers_merge(actor=admin, target=keep, others=[merged], reason="duplicate")
    assert set(
        selectors.customer_list(actor=owner, filters=CustomerFilters(q="王伟")).values_list(
            "pk", flat=True
        )
    ) == {keep.pk}
    assert names(owner, "3333") == set()
    assert names(owner, "2222") == set()


def test_update_changes_what_is_found(owner, path):
    c = factories.customer(owner, "张三", mobile="13812345678")
    services.customer_update(
        actor=owner, customer=c, expected_version=c.version, name="李四", mobile="13987654321"
    )
    assert names(owner, "张三") == set() and names(owner, "zs") == set()
    assert names(owner, "5678") == set()
    assert names(owner, "李四") == {"李四"} and names(owner, "ls") == {"李四"}
    assert names(owner, "87654") == {"李四"}


def test_tags_are_found_like_names_and_follow_every_change(owner, path):
    a = factories.customer(owner, "王五", tags=["老客户", "Newsletter"])
    b = factories.customer(owner, "赵六")
    assert names(owner, "newslet") == {"王五"}  # part of a tag, any case
    assert names(owner, "客户") == names(owner, "老") == {"王五"}  # Chinese grams of a tag
    services.customer_update(
        actor=owner, customer=b, expected_version=b.version, tags=["newsletter", "会员"]
    )
    assert names(owner, "NEWSLETTER") == {"王五", "赵六"}
    assert names(owner, "会员") == {"赵六"}
    a.refresh_from_db()
    services.customer_update(actor=owner, customer=a, expected_version=a.version, tags=[])
    assert names(owner, "newsletter") == {"赵六"} and names(owner, "老客户") == set()
    # An edit that leaves the tags alone keeps them searchable.
    b.refresh_from_db()
    services.customer_update(actor=owner, customer=b, expected_version=b.version, city="杭州")
    assert names(owner, "会员") == {"赵六"}


def test_a_merge_makes_the_merged_tags_searchable(owner, team_a, path):
    from kehu.customers.merging import customers_merge

    manager = factories.user("manager", role_code="manager", team_obj=team_a, name="经理")
    keep = factories.customer(owner, "张三", mobile="13812345678")
    gone = factories.customer(owner, "张三", tags=["展会2026"])
    customers_merge(actor=manager, target=keep, others=[gone], reason="same person")
    assert names(owner, "展会2026") == {"张三"}
    assert set(
        selectors.customer_list(actor=owner, filters=CustomerFilters(q="展会2026")).values_list(
            "pk", flat=True
        )
    ) == {keep.pk}


def test_pool_search_uses_the_same_rules(owner, path):
    factories.customer(None, "赵敏", mobile="13700001234")
    factories.customer(owner, "赵六")
    found = set(selectors.pool_list(actor=owner, q="赵").values_list("name", flat=True))
    assert found == {"赵敏"}
    assert set(selectors.pool_list(actor=owner, q="zm").values_list("name", flat=True)) == {"赵敏"}


def test_api_search_by_initials_and_fragment(owner):
    from tests.conftest import token_client

    factories.customer(owner, "张三", mobile="13812345678")
    factories.customer(owner, "李娜")
    client = token_client(owner)
    for q in ("zs", "张", "5678", "zhangsan"):
        body = client.get("/api/v1/customers", {"q": q}).json()
        assert [item["name"] for item in body["items"]] == ["张三"], q


# --- Search keys ---------------------------------------------------------------------------


def test_search_text_carries_han_and_initials_grams():
    text = search_keys.search_text(["张三", "", "zhangsan", "zs", "13812345678", "上海"])
    words = text.split(search_keys.SEPARATOR)
    assert words[:5] == ["张三", "zhangsan", "zs", "13812345678", "上海"]
    for gram in ("张", "三", "张三", "上海", "z", "s", "zs"):
        assert search_keys.short_pattern(gram) in text
    assert search_keys.short_pattern("sh") not in text  # the city's initials are no key
    assert search_keys.search_text(["Alice Wong", "alice_hk"]) == "alice wong\x1falice_hk"


def test_migration_adds_grams_to_old_search_text():
    old = "张三\x1fzhangsan\x1fzs\x1f13812345678"
    new = search_keys.with_han_grams(old.split(search_keys.SEPARATOR))
    assert new == search_keys.search_text(["张三", "zhangsan", "zs", "13812345678"])
    assert new.endswith(search_keys.SEPARATOR)


def test_migration_puts_the_tags_of_old_rows_into_search_text(owner):
    import importlib

    from django.apps import apps
    from django.db import connection

    tagged = factories.customer(owner, "王五", tags=["老客户", "VIP"])
    plain = factories.customer(owner, "赵六")
    untagged_text = services.search_key_values(
        name="王五", company="", mobile="", phone="", email="", wechat="", city=""
    )[-1]
    Customer.objects.filter(pk=tagged.pk).update(search_text=untagged_text)  # as before 0009
    assert names(owner, "vip") == set()
    migration = importlib.import_module("kehu.customers.migrations.0009_search_text_tags")

    class Editor:  # what the migration uses of a schema editor (SQLite can't open one here)
        quote_name = staticmethod(connection.ops.quote_name)

    Editor.connection = connection
    migration.tags_into_search_text(apps, Editor())
    tagged.refresh_from_db()
    services.compute_search_keys(plain)
    assert names(owner, "vip") == names(owner, "客户") == {"王五"}
    assert "vip" in tagged.search_text.split(search_keys.SEPARATOR)
    assert Customer.objects.get(pk=plain.pk).search_text == plain.search_text  # untouched


def test_demo_rows_have_the_search_keys_the_services_compute(owner):
    from kehu.demo.customers import make_customers

    made = make_customers(random.Random(7), 400, [owner], batch_size=150)
    assert made == 400 and Customer.objects.count() == 400
    for customer in Customer.objects.all():
        stored = {f: getattr(customer, f) for f in services.SEARCH_KEY_FIELDS}
        services.compute_search_keys(customer)
        assert stored == {f: getattr(customer, f) for f in services.SEARCH_KEY_FIELDS}
    some = Customer.objects.exclude(name_initials="").order_by("pk").first()
    assert some is not None
    assert some.pk in set(
        selectors.customer_list(actor=owner, filters=CustomerFilters(q=some.name)).values_list(
            "pk", flat=True
        )
    )
    if not is_postgres():
        assert_fts_in_sync()


# --- SQLite: the FTS5 trigram table and its triggers --------------------------------------


def fts_rowids(text: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",  # noqa: S608
            [search._fts_phrase(text)],
        )
        return {row[0] for row in cursor.fetchall()}


def assert_fts_in_sync() -> None:
    with connection.cursor() as cursor:
        # rank 1: compare the index with the content table, not only with itself
        cursor.execute(
            "INSERT INTO customers_customer_fts(customers_customer_fts, rank) "
            "VALUES ('integrity-check', 1)"
        )


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_has_the_fts_table():
    assert search.fts_available()


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_fts_triggers_follow_create_update_delete_and_merge(owner):
    admin = factories.user("boss", role_code="administrator")
    c = factories.customer(owner, "欧阳娜娜", mobile="13811112222")
    assert fts_rowids("ouyang") == {c.pk}
    assert_fts_in_sync()
    services.customer_update(actor=owner, customer=c, expected_version=c.version, name="司马光")
    assert fts_rowids("ouyang") == set() and fts_rowids("sima") == {c.pk}
    assert_fts_in_sync()
    other = factories.customer(owner, "司马光", mobile="13833334444")
    c.refresh_from_db()
    services.customers_merge(actor=admin, target=c, others=[other], reason="duplicate")
    assert_fts_in_sync()
    # Merged: soft-deleted, still indexed, never listed.
    assert fts_rowids("3333") == {other.pk}
    assert names(owner, "3333") == set()
    Customer.all_objects.filter(pk=other.pk).delete()  # the 30-day purge
    assert fts_rowids("3333") == set()
    assert_fts_in_sync()
    Customer.objects.filter(pk=c.pk).update(search_text="changed by sql")
    assert fts_rowids("by sql") == {c.pk} and fts_rowids("sima") == set()
    assert_fts_in_sync()


# --- Plans --------------------------------------------------------------------------------


def test_many_matches_take_the_walk_and_few_the_id_list(owner, monkeypatch):
    for i in range(6):
        factories.customer(owner, f"张{'三四五六七八'[i]}", mobile=f"1381234{i:04d}")
    factories.customer(owner, "李娜", mobile="13900000000")
    monkeypatch.setattr(search, "CANDIDATE_CAP", 3)
    walk = search.search_condition("1381234")
    assert "StrIndex" in str(walk)
    few = search.search_condition("李娜")
    assert "StrIndex" not in str(few)
    assert len(names(owner, "1381234")) == 6 and names(owner, "李娜") == {"李娜"}


def test_the_scope_sample_sends_a_common_term_to_the_walk_and_a_rare_one_to_the_probe(
    owner, monkeypatch
):
    factories.customer(owner, "李娜", mobile="13900000000")
    for i in range(8):
        factories.customer(owner, f"王{'一二三四五六七八'[i]}", mobile=f"1381234{i:04d}")
    monkeypatch.setattr(search, "SAMPLE_ROWS", 5)
    monkeypatch.setattr(search, "WALK_FROM", 10)
    monkeypatch.setattr(search, "_table_size", lambda: 12)
    within = selectors.customer_list(actor=owner)
    # The five newest are all 王…: 5/5 of 12 expected ≥ 10 → the walk.
    assert "StrIndex" in str(search.search_condition("1381234", within=within))
    # 李娜 is not among them: 0 expected → the probe, an id list.
    assert "StrIndex" not in str(search.search_condition("李娜", within=within))
    # A scope smaller than the sample is walked whatever the term.
    monkeypatch.setattr(search, "SAMPLE_ROWS", 50)
    assert "StrIndex" in str(search.search_condition("李娜", within=within))
    # Either way the results are the same.
    assert len(names(owner, "1381234")) == 8 and names(owner, "李娜") == {"李娜"}


def test_short_queries_still_find_every_start_of_initials_and_chinese_names(owner, path):
    # The B-tree lookups for the start of the initials and of a Chinese name were dropped
    # as the n-gram words hold them: check that on varied demo names, for every 1- and
    # 2-character start, against the rule written out in Python.
    from kehu.demo.customers import make_customers

    make_customers(random.Random(11), 300, [owner], batch_size=150)
    customers = list(selectors.customer_list(actor=owner, filters=CustomerFilters()))
    assert len(customers) > 100
    starts = set()
    for customer in customers:
        for text in (customer.name_initials, customer.name):
            starts.update({text[:1], text[:2]} - {""})
    for q in sorted(starts):
        if not (search_keys.has_han(q) or q.isascii()):
            continue
        found = set(
            selectors.customer_list(actor=owner, filters=CustomerFilters(q=q)).values_list(
                "pk", flat=True
            )
        )
        wanted = {
            c.pk
            for c in customers
            if c.name_initials.startswith(q.lower())
            or c.name_pinyin.startswith(q.lower())
            or c.name.startswith(q)
        }
        assert wanted <= found, q


def test_a_rare_term_is_one_statement_from_the_index(owner, monkeypatch):
    # The sample says "rare": no probe, and on PostgreSQL the LIKE twice (the planner
    # must count it twice, or it walks an ordering index for terms it wrongly thinks
    # common); on SQLite the FTS5 rowids as a subquery.
    factories.customer(owner, "张三")
    monkeypatch.setattr(search, "_common_within", lambda within, walk: False)
    probes = []
    monkeypatch.setattr(search, "_indexed_substring_ids", lambda *a: probes.append(a) or set())
    customers = selectors.customer_list(actor=owner, filters=CustomerFilters(q="zhangsan"))
    sql = str(customers.query)
    assert [c.name for c in customers] == ["张三"] and probes == []
    if is_postgres():
        assert sql.count("LIKE") == 2
    else:
        assert f"FROM {search.FTS_TABLE} WHERE" in sql


def test_a_term_the_first_sample_leaves_in_doubt_is_judged_on_a_larger_one(owner, monkeypatch):
    for i in range(10):
        factories.customer(owner, f"李{'一二三四五六七八九十'[i]}")
    factories.customer(owner, "王五")
    factories.customer(owner, "李娜")  # the two newest: one 王 in two
    monkeypatch.setattr(search, "_table_size", lambda: 12)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 2)
    monkeypatch.setattr(search, "WALK_FROM", 5)
    within = selectors.customer_list(actor=owner)
    # 1 in 2 of 12 → 6 expected: in doubt; 1 in 10 → 1.2 expected: rare, read from the index.
    monkeypatch.setattr(search, "EXTEND_SAMPLE", 5)
    assert "StrIndex" not in str(search.search_condition("王", within=within))
    # Without a second look the first sample would have walked.
    monkeypatch.setattr(search, "EXTEND_SAMPLE", 1)
    assert "StrIndex" in str(search.search_condition("王", within=within))
    assert names(owner, "王") == {"王五"}


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_a_search_sorted_by_name_never_walks_and_keeps_the_name_order(owner, monkeypatch, sort):
    # Matches cluster in name order (every 王… together): walking the name index for a
    # common term read half the table, so such a search always reads its matches.
    for name in ["王五", "Wang Wu", "王小二", "老王", "李四", "王五"]:
        factories.customer(owner, name)

    def no_sample(within, walk):
        raise AssertionError("sampled")

    monkeypatch.setattr(search, "_common_within", no_sample)
    found = selectors.customer_list(actor=owner, filters=CustomerFilters(q="王", sort=sort))
    plain = Customer.objects.filter(pk__in=[c.pk for c in found]).order_by(
        *filtering.order_for(sort)
    )
    assert [c.pk for c in found] == [c.pk for c in plain]
    assert sorted(c.name for c in found) == sorted(["王五", "王小二", "老王", "王五"])

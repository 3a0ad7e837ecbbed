"""Likely duplicates: the four rules, what a user learns about matches they may not see,
that each rule is an index lookup, the create page's "create anyway" and the API."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from kehu.core.services import record_soft_delete
from kehu.customers import selectors
from kehu.customers.duplicates import rule_queries
from kehu.customers.models import Customer
from tests import factories
from tests.conftest import signed_in, token_client
from tests.customers.test_pages import form_data

pytestmark = pytest.mark.django_db

NEW = "/customers/new/"
API = "/api/v1/customers/duplicates"


def find(actor, **values):
    return selectors.likely_duplicates(actor=actor, **values)


def test_same_mobile_in_any_notation(owner):
    mine = factories.customer(owner, "张三", mobile="13812345678")
    for typed in ("13812345678", "138 1234 5678", "+86 138-1234-5678", "8613812345678"):
        matches = find(owner, name="某人", mobile=typed)
        assert [(m.pk, m.reasons, m.held_by) for m in matches] == [(mine.pk, ["mobile"], "you")]
        assert matches[0].name == "张三" and matches[0].customer_id == mine.pk


def test_same_email_any_case(owner):
    mine = factories.customer(owner, "Wang Wu", email="wang.wu@example.com")
    matches = find(owner, name="W", email="  Wang.Wu@EXAMPLE.com ")
    assert [(m.pk, m.reasons) for m in matches] == [(mine.pk, ["email"])]


def test_same_name_and_company_any_case(owner):
    mine = factories.customer(owner, "Li Lei", company="ACME Trading")
    for name in ("Li Lei", "li lei", "LI LEI"):
        matches = find(owner, name=name, company="acme trading")
        assert [(m.pk, m.reasons) for m in matches] == [(mine.pk, ["name_company"])]
    # Same name, other company, or an individual without a company: not a duplicate.
    assert find(owner, name="Li Lei", company="Other Ltd") == []
    factories.customer(owner, "王芳")
    assert find(owner, name="王芳") == []


def test_an_organisation_by_its_name_alone(owner):
    org = factories.customer(owner, "深圳华强电子", kind="organisation")
    matches = find(owner, name="深圳华强电子", kind="organisation")
    assert [(m.pk, m.reasons) for m in matches] == [(org.pk, ["name_company"])]


def test_same_pinyin_and_city(owner):
    mine = factories.customer(owner, "张三", city="上海")
    matches = find(owner, name="张叁", city="上海")  # same sound, other character
    assert [(m.pk, m.reasons) for m in matches] == [(mine.pk, ["pinyin_city"])]
    assert find(owner, name="张叁", city="杭州") == []


def test_several_reasons_rank_first(owner):
    one = factories.customer(owner, "张三", city="上海")
    two = factories.customer(owner, "张三丰", mobile="13812345678", city="上海")
    matches = find(owner, name="张三", city="上海", mobile="13812345678")
    assert [m.pk for m in matches] == [two.pk, one.pk] or [m.pk for m in matches] == [
        one.pk,
        two.pk,
    ]
    matches = find(owner, name="张三丰", city="上海", mobile="13812345678")
    assert matches[0].pk == two.pk and set(matches[0].reasons) == {"mobile", "pinyin_city"}


def test_deleted_merged_and_excluded_records_are_not_matches(owner, admin_user):
    gone = factories.customer(owner, "甲", mobile="13812345678")
    record_soft_delete(actor=admin_user, obj=gone)
    kept = factories.customer(owner, "乙", mobile="13812345678")
    assert [m.pk for m in find(owner, mobile="13812345678")] == [kept.pk]
    assert find(owner, mobile="13812345678", exclude_id=kept.pk) == []


def test_a_colleagues_customer_is_reported_without_its_details(owner, teammate):
    theirs = factories.customer(teammate, "张三", mobile="13812345678", company="秘密公司")
    [match] = find(owner, name="张三", mobile="13812345678")
    assert match.pk == theirs.pk and match.reasons == ["mobile"]
    assert (match.held_by, match.owner_name) == ("colleague", "李娜")
    assert (match.visible, match.customer_id, match.name, match.company, match.city) == (
        False,
        None,
        None,
        None,
        None,
    )


def test_a_pool_customer_is_shown_to_those_who_may_claim(owner, outsider):
    pooled = factories.customer(None, "深圳华强电子", mobile="13812345678")
    [match] = find(owner, mobile="13812345678")
    assert (match.held_by, match.customer_id, match.name) == ("pool", pooled.pk, "深圳华强电子")
    [match] = find(outsider, mobile="13812345678")  # a member may not claim
    assert (match.held_by, match.customer_id, match.name) == ("pool", None, None)


def test_nothing_for_a_user_without_customer_rights(db, owner):
    factories.customer(owner, "张三", mobile="13812345678")
    nobody = factories.user("nobody", role_code=None)
    assert find(nobody, mobile="13812345678") == []


def test_hostile_values_find_nothing_and_break_nothing(owner):
    factories.customer(owner, "张三", mobile="13812345678", email="a@example.com")
    for text in ("<script>alert(1)</script>", "=cmd|' /c calc'!A0", "长" * 10_000, "a\x00b\x1f"):
        assert find(owner, name=text, company=text, email=text, city=text, mobile=text) == []


# --- Each rule is one index lookup ----------------------------------------------------------


def _plan(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
        try:
            return queryset.explain()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET enable_seqscan = on")
    return queryset.explain()


@pytest.mark.parametrize(
    ("rule", "index"),
    [
        ("mobile", "mobile_digits"),
        ("email", "email_lower"),
        ("name_company", "cust_name_idx"),
        ("pinyin_city", "cust_pinyin_city_idx"),
    ],
)
def test_every_rule_is_an_index_lookup_not_a_scan(owner, rule, index):
    for n in range(30):
        factories.customer(owner, f"客户{n}", city="上海", mobile=f"1381234{n:04d}")
    queries = rule_queries(
        name="Li Lei",
        company="ACME",
        mobile="13812345678",
        email="a@example.com",
        city="上海",
    )
    queries.update(rule_queries(name="张三", city="上海"))
    plan = _plan(queries[rule])
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan, plan
        assert "Index" in plan and index.split("_idx")[0][:10] in plan, plan
    else:
        assert "SCAN customers_customer" not in plan.replace("SCAN customers_customer USING", ""), (
            plan
        )
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        if index.endswith("_idx"):
            assert index in plan, plan
        else:
            assert index in plan, plan


# --- The create page ----------------------------------------------------------------------


def test_create_with_a_likely_duplicate_asks_first(owner):
    mine = factories.customer(owner, "张三", mobile="13812345678")
    client = signed_in(owner)
    response = client.post(NEW, form_data(name="张三丰", mobile="138 1234 5678"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="duplicate-warning"' in body and f'data-duplicate="{mine.pk}"' in body
    assert 'name="create_anyway"' in body
    assert Customer.objects.count() == 1

    response = client.post(NEW, form_data(name="张三丰", mobile="138 1234 5678", create_anyway="1"))
    assert response.status_code == 302
    assert Customer.objects.filter(name="张三丰", mobile="+8613812345678").count() == 1


def test_create_without_duplicates_goes_straight_through(owner):
    factories.customer(owner, "张三", mobile="13812345678")
    response = signed_in(owner).post(NEW, form_data(name="李四", mobile="13912345678"))
    assert response.status_code == 302


def test_the_warning_names_a_colleague_but_not_their_customer(owner, teammate):
    factories.customer(teammate, "秘密客户", mobile="13812345678")
    response = signed_in(owner).post(NEW, form_data(name="张三", mobile="13812345678"))
    body = response.content.decode()
    assert response.status_code == 200 and "李娜" in body and "秘密客户" not in body


def test_live_check_while_typing(owner, teammate, outsider):
    mine = factories.customer(owner, "<b>张三</b>", mobile="13812345678", city="上海")
    client = signed_in(owner)
    response = client.get(
        "/customers/duplicates/", {"mobile": "13812345678"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and f'data-duplicate="{mine.pk}"' in body
    assert "<b>张三</b>" not in body and "&lt;b&gt;张三&lt;/b&gt;" in body
    assert client.get("/customers/duplicates/", {"mobile": "139"}).content.strip() == b""
    # The outsider may not create customers (a member): 404.
    assert signed_in(outsider).get("/customers/duplicates/").status_code == 404
    # A teammate sees that it exists and whose it is, not what it is.
    body = signed_in(teammate).get("/customers/duplicates/", {"mobile": "13812345678"})
    assert "张三" in body.content.decode()  # the owner's name is 张三 too …
    assert f'data-duplicate="{mine.pk}"' not in body.content.decode()


# --- The API --------------------------------------------------------------------------------


def post(client, body):
    return client.post(API, json.dumps(body), content_type="application/json")


def test_api_finds_duplicates_with_reasons(owner, teammate):
    mine = factories.customer(owner, "张三", mobile="13812345678", email="zs@example.com")
    theirs = factories.customer(teammate, "张三", city="上海", company="ACME")
    response = post(
        token_client(owner),
        {"name": "张三", "mobile": "+86 138 1234 5678", "city": "上海", "company": "acme"},
    )
    assert response.status_code == 200
    matches = response.json()["matches"]
    assert matches[0] == {
        "reasons": ["name_company", "pinyin_city"],
        "held_by": "colleague",
        "owner_name": "李娜",
        "customer_id": None,
        "name": None,
        "company": None,
        "city": None,
    }
    assert matches[1]["customer_id"] == mine.pk and matches[1]["reasons"] == ["mobile"]
    assert theirs.pk not in [m["customer_id"] for m in matches]


def test_api_refuses_unknown_fields_and_wrong_types(owner):
    client = token_client(owner)
    assert post(client, {"name": "x", "colour": "red"}).status_code == 422
    assert post(client, {"name": 1}).status_code == 422
    assert post(client, {"exclude_id": "1"}).status_code == 422
    assert post(client, {}).json() == {"matches": []}


def test_api_without_rights_is_404(db):
    nobody = factories.user("nobody", role_code=None)
    assert post(token_client(nobody), {"name": "x"}).status_code == 404

"""The customer pages through Django's test client: scope, search, forms, conflicts,
hostile text, the public pool and the home figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core.access import scope_of
from kehu.customers import services
from kehu.customers.choices import Tier
from kehu.customers.models import Customer, CustomerChange
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LIST = "/customers/"
NEW = "/customers/new/"
POOL = "/customers/pool/"

HOSTILE_NAME = "<script>alert(1)</script>"
FORMULA = "=cmd|' /c calc'!A0"
LONG = "长" * 10_000


def form_data(**overrides) -> dict:
    data = {
        "kind": "individual",
        "name": "王五",
        "company": "",
        "credit_code": "",
        "industry": "",
        "size": "",
        "mobile": "",
        "phone": "",
        "email": "",
        "wechat": "",
        "province": "",
        "city": "",
        "district": "",
        "street": "",
        "address_text": "",
        "birthday": "",
        "gender": "",
        "source": "",
        "notes": "",
        "stage": "prospect",
        "tier": "ordinary",
        "tier_reason": "",
        "tags": "",
    }
    data.update(overrides)
    return data


def edit_data(customer: Customer, **overrides) -> dict:
    """The edit form as the page sends it back unchanged, plus ``overrides``."""
    data = form_data(
        **{name: getattr(customer, name) or "" for name in form_data() if name != "tags"}
    )
    data["birthday"] = customer.birthday.isoformat() if customer.birthday else ""
    data["tags"] = ", ".join(customer.tags.values_list("name", flat=True))
    data["version"] = customer.version
    data.update(overrides)
    return data


def row_ids(response) -> set[int]:
    return {c.pk for c in response.context["page"]}


# --- Access -------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login():
    from django.test import Client

    for url in (LIST, NEW, POOL):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_list_shows_own_customers_only_and_search_by_initials(owner, teammate):
    mine = factories.customer(owner, "张三", mobile="13812345678", company="明珠贸易")
    other = factories.customer(owner, "李娜")
    theirs = factories.customer(teammate, "赵六")
    client = signed_in(owner)

    response = client.get(LIST)
    assert response.status_code == 200
    assert row_ids(response) == {mine.pk, other.pk}
    html = response.content.decode()
    assert f'href="/customers/{mine.pk}/"' in html
    assert "明珠贸易" in html and "138****5678" in html  # masked (custody)
    assert "赵六" not in html

    for q in ("zs", "ZS", "zhangsan", "张", "5678", "138 1234"):
        assert row_ids(client.get(LIST, {"q": q})) == {mine.pk}, q
    assert row_ids(client.get(LIST, {"q": "zl"})) == set()  # the teammate's 赵六
    assert row_ids(signed_in(teammate).get(LIST)) == {theirs.pk}


def test_filters_stage_tier_tag_source_city_and_stale(owner):
    a = factories.customer(
        owner, "甲", stage="active", tier="key", source="fair", city="上海", tags=["VIP"]
    )
    b = factories.customer(owner, "乙", city="杭州")
    Customer.objects.filter(pk=b.pk).update(verified_at=timezone.now() - timedelta(days=400))
    client = signed_in(owner)
    assert row_ids(client.get(LIST, {"stage": "active"})) == {a.pk}
    assert row_ids(client.get(LIST, {"tier": "key"})) == {a.pk}
    assert row_ids(client.get(LIST, {"tag": "vip"})) == {a.pk}
    assert row_ids(client.get(LIST, {"source": "fair"})) == {a.pk}
    assert row_ids(client.get(LIST, {"city": "杭州"})) == {b.pk}
    response = client.get(LIST, {"stale": "on"})
    assert row_ids(response) == {b.pk}
    assert response.content.decode().count("data-stale") == 1
    # An unknown choice is ignored rather than an error.
    assert client.get(LIST, {"stage": "royalty"}).status_code == 200


def test_list_is_paginated_by_50(owner):
    for i in range(51):
        factories.customer(owner, f"客户{i}")
    client = signed_in(owner)
    first = client.get(LIST)
    assert len(first.context["page"]) == 50
    assert first.context["page"].paginator.count == 51
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page"]) == 1


def test_htmx_search_returns_only_the_results(owner):
    mine = factories.customer(owner, "张三")
    factories.customer(owner, "李娜")
    response = signed_in(owner).get(LIST, {"q": "zs"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="customer-filter"' not in html
    assert 'id="customer-results"' in html
    assert f'data-customer="{mine.pk}"' in html and "李娜" not in html
    assert "HX-Request" in response["Vary"]
    pool = signed_in(owner).get(POOL, {"q": "x"}, headers={"HX-Request": "true"})
    assert pool.status_code == 200 and "<html" not in pool.content.decode()


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_others_get_404_on_detail_and_edit_and_change_nothing(who, request, owner):
    customer = factories.customer(owner, "张三", city="上海")
    client = signed_in(request.getfixturevalue(who))
    base = f"/customers/{customer.pk}/"
    assert client.get(base).status_code == 404
    assert client.get(base + "edit/").status_code == 404
    response = client.post(base + "edit/", edit_data(customer, city="北京"))
    assert response.status_code == 404
    assert client.post(base + "verify/").status_code == 404
    assert client.post(base + "release/", {"reason": "x"}).status_code == 404
    customer.refresh_from_db()
    assert (customer.city, customer.version, customer.owner) == ("上海", 1, owner)
    assert not CustomerChange.objects.filter(customer=customer, field="city", new_value="北京")


def test_member_may_view_but_not_create_or_claim(outsider, admin_user):
    assert scope_of(outsider) == "own"
    client = signed_in(outsider)
    assert client.get(LIST).status_code == 200
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, form_data()).status_code == 404
    assert client.get(POOL).status_code == 404
    assert Customer.objects.count() == 0
    mine = services.customer_create(actor=admin_user, owner=outsider, name="外部客户")
    page = client.get(f"/customers/{mine.pk}/").content.decode()
    assert 'id="edit-customer"' not in page and 'id="verify-button"' not in page


def test_missing_customer_is_404(owner):
    assert signed_in(owner).get("/customers/999999/").status_code == 404


# --- Create -------------------------------------------------------------------------------


def test_create_saves_and_redirects_to_the_file(owner):
    client = signed_in(owner)
    assert client.get(NEW).status_code == 200
    response = client.post(
        NEW,
        form_data(
            name="张三",
            mobile="138 1234 5678",
            email="Zhang@Example.com",
            city="上海",
            birthday="1990-05-01",
            tags="VIP, 展会2026，老客户",
        ),
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert (customer.owner, customer.mobile, customer.email) == (
        owner,
        "+8613812345678",
        "zhang@example.com",
    )
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "展会2026", "老客户"]
    page = client.get(response["Location"]).content.decode()
    assert "张三" in page and "展会2026" in page and "1990-05-01" in page


def test_create_with_a_bad_mobile_is_400_naming_the_field(owner):
    response = signed_in(owner).post(NEW, form_data(name="张三", mobile="12345"))
    assert response.status_code == 400
    assert 'data-error-for="mobile"' in response.content.decode()
    assert response.context["form"].errors.keys() == {"mobile"}
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"credit_code": "123"}, "credit_code"),
        ({"name": "x" * 10_000}, "name"),
        ({"stage": "royalty"}, "stage"),
        ({"birthday": "2999-01-01"}, "birthday"),
    ],
)
def test_create_rejects_bad_input(owner, overrides, field):
    response = signed_in(owner).post(NEW, form_data(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Customer.objects.count() == 0


# --- Detail and edit ------------------------------------------------------------------------


def test_detail_shows_the_file_and_its_history(owner):
    customer = factories.customer(owner, "张三", city="上海", tags=["VIP"], stage="active")
    customer.contacts.create(name="陈经理", role="采购", is_primary=True)
    client = signed_in(owner)
    response = client.post(
        f"/customers/{customer.pk}/edit/", edit_data(customer, city="杭州", tier="key")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "陈经理" in page and "采购" in page and "VIP" in page
    history = client.get(f"/customers/{customer.pk}/").context["history"]
    city = next(row for row in history if row["change"].field == "city" and row["old"])
    assert (city["old"], city["new"], city["change"].actor) == ("上海", "杭州", owner)
    tier = next(row for row in history if row["change"].field == "tier" and row["old"])
    assert (str(tier["old"]), str(tier["new"])) == (str(Tier.ORDINARY.label), str(Tier.KEY.label))
    assert 'id="release-form"' in page and 'id="verify-button"' in page


def test_edit_form_is_prefilled_and_needs_the_version(owner):
    customer = factories.customer(owner, "张三", city="上海", tags=["VIP", "老客户"])
    client = signed_in(owner)
    form = client.get(f"/customers/{customer.pk}/edit/").context["form"]
    assert form["city"].value() == "上海"
    assert form["version"].value() == 1
    assert set(form["tags"].value().split(", ")) == {"VIP", "老客户"}
    data = edit_data(customer, city="北京")
    del data["version"]
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.city == "上海"


def test_edit_conflict_is_409_and_the_first_save_is_kept(owner):
    customer = factories.customer(owner, "张三", city="上海")
    client = signed_in(owner)
    url = f"/customers/{customer.pk}/edit/"
    stale = edit_data(customer)
    assert client.post(url, dict(stale, city="杭州")).status_code == 302
    response = client.post(url, dict(stale, city="北京"))
    assert response.status_code == 409
    assert 'id="conflict-message"' in response.content.decode()
    customer.refresh_from_db()
    assert (customer.city, customer.version) == ("杭州", 2)


def test_edit_with_bad_input_is_400_with_the_field(owner):
    customer = factories.customer(owner, "张三", email="a@example.com")
    url = f"/customers/{customer.pk}/edit/"
    response = signed_in(owner).post(url, edit_data(customer, email="nope"))
    assert response.status_code == 400
    assert 'data-error-for="email"' in response.content.decode()
    customer.refresh_from_db()
    assert (customer.email, customer.version) == ("a@example.com", 1)


def test_hostile_text_is_escaped_on_the_pages(owner):
    client = signed_in(owner)
    response = client.post(
        NEW,
        form_data(
            name=HOSTILE_NAME,
            company=FORMULA,
            notes=f"{LONG}\n<img src=x onerror=alert(1)>",
            tags='<b>bold</b>, "quoted"',
        ),
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.name == HOSTILE_NAME and customer.company == FORMULA
    assert len(customer.notes) > 10_000
    for url in (
        LIST,
        f"{LIST}?q=script",
        f"/customers/{customer.pk}/",
        f"/customers/{customer.pk}/edit/",
    ):
        html = client.get(url).content.decode()
        assert HOSTILE_NAME not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "<img src=x" not in html and "<b>bold</b>" not in html, url
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "=cmd|&#x27; /c calc&#x27;!A0" in detail
    assert LONG in detail


def test_mark_verified_clears_the_stale_badge(owner):
    customer = factories.customer(owner, "张三")
    Customer.objects.filter(pk=customer.pk).update(verified_at=None)
    client = signed_in(owner)
    url = f"/customers/{customer.pk}/"
    assert 'id="stale-badge"' in client.get(url).content.decode()
    assert client.get(url + "verify/").status_code == 405
    response = client.post(url + "verify/")
    assert response.status_code == 302 and response["Location"] == url
    customer.refresh_from_db()
    assert customer.verified_at is not None
    assert 'id="stale-badge"' not in client.get(url).content.decode()


# --- The public pool --------------------------------------------------------------------------


def test_pool_claim_and_release_through_the_pages(owner, teammate):
    pooled = factories.customer(None, "公海客户", city="深圳")
    factories.customer(None, "北京远景")
    client = signed_in(owner)

    pool = client.get(POOL)
    assert pool.status_code == 200
    assert {c.name for c in pool.context["page"]} == {"公海客户", "北京远景"}
    assert {c.name for c in client.get(POOL, {"q": "ghkh"}).context["page"]} == {"公海客户"}
    assert row_ids(client.get(LIST)) == set()

    response = client.post(f"/customers/pool/{pooled.pk}/claim/", follow=True)
    assert response.redirect_chain[-1][0] == f"/customers/{pooled.pk}/"
    pooled.refresh_from_db()
    assert pooled.owner == owner
    assert row_ids(client.get(LIST)) == {pooled.pk}
    assert pooled.pk not in {c.pk for c in client.get(POOL).context["page"]}

    # Someone else was first: a message, back to the pool, nothing changes.
    response = signed_in(teammate).post(f"/customers/pool/{pooled.pk}/claim/", follow=True)
    assert response.redirect_chain[-1][0] == POOL
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    pooled.refresh_from_db()
    assert pooled.owner == owner

    # Release needs a reason.
    url = f"/customers/{pooled.pk}/release/"
    response = client.post(url, {"reason": "  "}, follow=True)
    assert response.redirect_chain[-1][0] == f"/customers/{pooled.pk}/"
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    pooled.refresh_from_db()
    assert pooled.owner == owner

    response = client.post(url, {"reason": "客户暂无需求"})
    assert response.status_code == 302
    pooled.refresh_from_db()
    assert pooled.owner is None and pooled.pooled_at is not None
    assert pooled.pk in {c.pk for c in client.get(POOL).context["page"]}
    assert CustomerChange.objects.filter(customer=pooled, field="owner", new_value="").exists()


def test_claim_limit_and_missing_customer(owner, settings):
    pooled = factories.customer(None, "公海客户")
    client = signed_in(owner)
    assert client.post("/customers/pool/999999/claim/").status_code == 404
    assert client.get(f"/customers/pool/{pooled.pk}/claim/").status_code == 405
    settings.KEHU_POOL_CLAIM_LIMIT = 0
    response = client.post(f"/customers/pool/{pooled.pk}/claim/", follow=True)
    assert response.redirect_chain[-1][0] == POOL
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    pooled.refresh_from_db()
    assert pooled.owner is None


def test_history_shows_owner_names(owner):
    pooled = factories.customer(None, "公海客户")
    client = signed_in(owner)
    client.post(f"/customers/pool/{pooled.pk}/claim/")
    history = client.get(f"/customers/{pooled.pk}/").context["history"]
    claim = next(row for row in history if row["change"].field == "owner")
    assert (claim["old"], claim["new"]) == ("", "张三")


# --- Navigation and home --------------------------------------------------------------------


def test_navigation_and_home_cards(owner, outsider):
    mine = factories.customer(owner, "张三")
    factories.customer(owner, "李娜")
    factories.customer(None, "公海客户")
    Customer.objects.filter(pk=mine.pk).update(verified_at=None)

    home = signed_in(owner).get("/")
    cards = {card.key: card.value for card in home.context["cards"]}
    assert (cards["my_customers"], cards["to_verify"], cards["pool"]) == (2, 1, 1)
    html = home.content.decode()
    assert 'href="/customers/"' in html and 'href="/customers/pool/"' in html

    home = signed_in(outsider).get("/")
    cards = {card.key: card.value for card in home.context["cards"]}
    assert cards["my_customers"] == 0 and "pool" not in cards
    html = home.content.decode()
    assert 'href="/customers/"' in html and 'href="/customers/pool/"' not in html


def test_list_count_stops_at_the_cap(owner):
    from kehu.core.views import CappedPaginator

    for i in range(4):
        factories.customer(owner, f"封顶{i}")
    rows = Customer.objects.order_by("id")
    capped = CappedPaginator(rows, 2, cap=3)
    assert capped.count == 4 and capped.capped
    assert [c.pk for c in capped.page(1)] == list(rows.values_list("pk", flat=True)[:2])
    exact = CappedPaginator(rows, 2, cap=10)
    assert exact.count == 4 and not exact.capped


def test_delete_from_the_file(owner, outsider, admin_user):
    from kehu.core.models import AuditEvent

    c = factories.customer(owner, "要删除")
    # A salesperson may not delete; a stranger cannot even see it: 404, nothing changes.
    assert signed_in(owner).post(f"/customers/{c.pk}/delete/", {"version": 1}).status_code == 404
    assert signed_in(outsider).post(f"/customers/{c.pk}/delete/", {"version": 1}).status_code == 404
    assert Customer.objects.filter(pk=c.pk).exists()
    admin = signed_in(admin_user)
    assert "delete-form" in admin.get(f"/customers/{c.pk}/").content.decode()
    stale = admin.post(f"/customers/{c.pk}/delete/", {"version": 7})
    assert stale.status_code == 302 and Customer.objects.filter(pk=c.pk).exists()
    done = admin.post(f"/customers/{c.pk}/delete/", {"version": 1})
    assert done.status_code == 302 and done["Location"] == "/customers/"
    assert not Customer.objects.filter(pk=c.pk).exists()
    assert Customer.all_objects.get(pk=c.pk).deleted_at is not None
    assert AuditEvent.objects.filter(
        action="customers.customer.delete", object_id=str(c.pk)
    ).exists()


def test_home_cards_link_to_lists_with_the_same_rows(owner, teammate):
    from kehu.core.home import home_cards

    factories.customer(owner, "我的")
    old = factories.customer(owner, "待核实")
    Customer.objects.filter(pk=old.pk).update(verified_at=None)
    factories.customer(teammate, "别人的")
    client = signed_in(owner)
    for card in home_cards(owner):
        if card.key in ("my_customers", "to_verify"):
            page = client.get(card.url).content.decode()
            assert "invalid-feedback" not in page
            shown = re.search(r'id="result-count">\D*(\d+)', page)
            assert shown and int(shown.group(1)) == card.value, card.key


def test_file_shows_the_fields_of_its_kind(owner):
    person = factories.customer(owner, "张三")
    firm = factories.customer(owner, "华强电子", kind="organisation")
    client = signed_in(owner)
    person_page = client.get(f"/customers/{person.pk}/").content.decode()
    firm_page = client.get(f"/customers/{firm.pk}/").content.decode()
    assert 'data-field="gender"' in person_page and 'data-field="credit_code"' not in person_page
    assert 'data-field="credit_code"' in firm_page and 'data-field="gender"' not in firm_page

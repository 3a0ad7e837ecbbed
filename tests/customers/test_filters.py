"""List filters (region, team, owner, source, dates, tags), sorting and their validation,
on the list page and in the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from kehu.customers.filtering import SORTS, clean_query, parse_filters
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_list
from tests import factories
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db

LIST = "/customers/"
API = "/api/v1/customers"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def row_ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:500]
    return {c.pk for c in response.context["page"]}


def api_ids(client, **params) -> set[int]:
    response = client.get(API, params)
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


@pytest.fixture
def cast(owner, team_b):
    a = factories.customer(
        owner,
        "甲",
        province="浙江",
        city="杭州",
        district="西湖区",
        source="fair",
        tags=["展会2026"],
    )
    b = factories.customer(
        owner, "乙", province="浙江", city="宁波", district="鄞州区", tags=["VIP"]
    )
    c = factories.customer(owner, "丙", province="上海", city="上海", district="浦东新区")
    Customer.objects.filter(pk=a.pk).update(
        created_at=at("2026-01-10"), last_contact_at=at("2026-03-01"), team=team_b
    )
    Customer.objects.filter(pk=b.pk).update(
        created_at=at("2026-02-10"), last_contact_at=at("2026-03-20", 23)
    )
    Customer.objects.filter(pk=c.pk).update(created_at=at("2026-03-10"), last_contact_at=None)
    return a, b, c


def test_region_source_team_and_tag_filters_on_the_page(owner, team_a, team_b, cast):
    a, b, c = cast
    client = signed_in(owner)
    assert row_ids(client.get(LIST, {"province": "浙江"})) == {a.pk, b.pk}
    assert row_ids(client.get(LIST, {"province": "浙江", "city": "宁波"})) == {b.pk}
    assert row_ids(client.get(LIST, {"district": "浦东新区"})) == {c.pk}
    assert row_ids(client.get(LIST, {"source": "fair"})) == {a.pk}
    assert row_ids(client.get(LIST, {"tag": "vip"})) == {b.pk}
    # team choices come from the teams the user may see (a salesperson sees the teams list)
    assert row_ids(client.get(LIST, {"team": team_b.pk})) == {a.pk}
    assert row_ids(client.get(LIST, {"team": team_a.pk})) == {b.pk, c.pk}
    assert row_ids(client.get(LIST, {"owner": owner.pk})) == {a.pk, b.pk, c.pk}


def test_date_ranges_are_whole_days_in_the_users_time_zone(owner, cast):
    a, b, c = cast
    client = signed_in(owner)
    assert row_ids(client.get(LIST, {"created_from": "2026-02-10"})) == {b.pk, c.pk}
    assert row_ids(client.get(LIST, {"created_to": "2026-02-10"})) == {a.pk, b.pk}
    assert row_ids(
        client.get(LIST, {"created_from": "2026-02-01", "created_to": "2026-02-28"})
    ) == {b.pk}
    # 23:00 in Shanghai on 20 March still counts as 20 March.
    assert row_ids(client.get(LIST, {"contact_to": "2026-03-20"})) == {a.pk, b.pk}
    assert row_ids(client.get(LIST, {"contact_from": "2026-03-02"})) == {b.pk}
    assert row_ids(client.get(LIST, {"contact_to": "2026-03-19"})) == {a.pk}


def test_bad_dates_show_an_error_and_are_left_out(owner, cast):
    client = signed_in(owner)
    response = client.get(LIST, {"created_from": "2026-13-45", "province": "浙江"})
    assert row_ids(response) == {cast[0].pk, cast[1].pk}  # the valid filter still applies
    html = response.content.decode()
    assert 'data-filter-error="created_from"' in html
    assert '<details class="mt-2" id="more-filters" open>' in html
    response = client.get(LIST, {"created_from": "2026-03-01", "created_to": "2026-02-01"})
    assert 'data-filter-error="created_to"' in response.content.decode()


def test_q_matches_tag_names_by_substring(owner, teammate):
    fair = factories.customer(owner, "甲", tags=["展会2026"])
    vip = factories.customer(owner, "乙", tags=["VIP客户"])
    factories.customer(teammate, "丙", tags=["展会2026"])  # not visible to the owner
    client = signed_in(owner)
    assert row_ids(client.get(LIST, {"q": "展会"})) == {fair.pk}
    assert row_ids(client.get(LIST, {"q": "vip"})) == {vip.pk}
    assert row_ids(client.get(LIST, {"q": "2026"})) == {fair.pk}
    assert row_ids(client.get(LIST, {"q": "展会2026"})) == {fair.pk}
    assert api_ids(token_client(owner), q="会20") == {fair.pk}


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_orders_the_list(owner, cast, sort):
    a, b, c = cast
    Customer.objects.filter(pk=a.pk).update(updated_at=at("2026-04-03"))
    Customer.objects.filter(pk=b.pk).update(updated_at=at("2026-04-01"))
    Customer.objects.filter(pk=c.pk).update(updated_at=at("2026-04-02"))
    response = signed_in(owner).get(LIST, {"sort": sort})
    order = [customer.pk for customer in response.context["page"]]
    expected = {
        "-updated": [a.pk, c.pk, b.pk],
        "updated": [b.pk, c.pk, a.pk],
        "-created": [c.pk, b.pk, a.pk],
        "created": [a.pk, b.pk, c.pk],
        "name": sorted([a.pk, b.pk, c.pk], key=lambda pk: Customer.objects.get(pk=pk).name),
        "-name": sorted([a.pk, b.pk, c.pk], key=lambda pk: Customer.objects.get(pk=pk).name)[::-1],
        "-last_contact": [b.pk, a.pk, c.pk],  # never contacted last
        "last_contact": [c.pk, a.pk, b.pk],  # never contacted first
    }[sort]
    assert order == expected


def test_unknown_sort_is_refused_and_the_default_used(owner, cast):
    response = signed_in(owner).get(LIST, {"sort": "password"})
    assert response.status_code == 200
    assert 'name="sort"' in response.content.decode()
    assert response.context["form"].errors["sort"]
    assert len(row_ids(response)) == 3


def test_filters_never_widen_the_scope(owner, teammate, outsider, team_a):
    mine = factories.customer(owner, "甲", city="杭州")
    theirs = factories.customer(teammate, "乙", city="杭州")
    client = signed_in(owner)
    # A colleague outside the user's scope is no choice: an error, and still only own rows.
    response = client.get(LIST, {"owner": teammate.pk})
    assert row_ids(response) == {mine.pk}
    assert 'data-filter-error="owner"' in response.content.decode()
    assert row_ids(client.get(LIST, {"city": "杭州"})) == {mine.pk}
    assert api_ids(token_client(owner), owner_id=teammate.pk) == set()
    assert api_ids(token_client(teammate), city="杭州") == {theirs.pk}
    assert api_ids(token_client(outsider), city="杭州") == set()


def test_api_filters_and_bad_dates(owner, team_b, cast):
    a, b, _c = cast
    client = token_client(owner)
    assert api_ids(client, province="浙江") == {a.pk, b.pk}
    assert api_ids(client, district="西湖区") == {a.pk}
    assert api_ids(client, team_id=team_b.pk) == {a.pk}
    assert api_ids(client, source="fair") == {a.pk}
    assert api_ids(client, created_from="2026-02-01", created_to="2026-02-28") == {b.pk}
    assert api_ids(client, contact_from="2026-03-02") == {b.pk}
    assert api_ids(client, created_from="2026-03-01", created_to="2026-02-01") == set()
    for name, value in (
        ("created_from", "2026-13-01"),
        ("created_to", "yesterday"),
        ("contact_from", "2026-02-30"),
        ("contact_to", "2026-1-1"),
    ):
        response = client.get(API, {name: value})
        assert response.status_code == 422, (name, response.content)
        assert name in response.json()["error"]["fields"]


def test_parse_filters_and_clean_query():
    values = parse_filters(
        {"q": " 张 ", "owner": "7", "stage": "active", "created_from": "2026-01-02", "stale": "on"}
    )
    assert values["q"] == "张" and values["owner_id"] == 7 and values["stale_only"] is True
    assert CustomerFilters(**values).created_from.isoformat() == "2026-01-02"
    with pytest.raises(ValidationError) as caught:
        parse_filters({"created_to": "2026-02-31", "sort": "hack", "evil": "1", "team": "-1"})
    assert set(caught.value.message_dict) == {"created_to", "sort", "evil", "team"}
    assert clean_query("page=3&evil=1&city=杭州&q=&stage=active") == (
        "stage=active&city=%E6%9D%AD%E5%B7%9E"
    )
    with pytest.raises(ValidationError):
        clean_query("created_from=soon")
    with pytest.raises(ValidationError):
        clean_query("q=" + "x" * 101)


def test_selector_keeps_scope_with_every_filter(owner, teammate):
    factories.customer(teammate, "乙", city="杭州")
    filters = CustomerFilters(
        city="杭州", sort="name", created_from=datetime.now().date() - timedelta(days=1)
    )
    assert list(customer_list(actor=owner, filters=filters)) == []
    assert customer_list(actor=teammate, filters=filters).count() == 1

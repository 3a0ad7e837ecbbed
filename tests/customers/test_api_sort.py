"""GET /api/v1/customers: the list page's sorts and its "to verify" filter, with keyset
pages that neither skip nor repeat a row in any sort (equal values and NULLs included)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kehu.customers.filtering import SORT_KEYS, SORTS
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_list
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

API = "/api/v1/customers"
ALL_SORTS = ["-id", *SORTS]
BASE = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
NAMES = ["张三", "李四", "Alice", "alice", "王五"]


def token(*parts) -> str:
    raw = json.dumps(list(parts), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def make_customers(user, count: int = 30, prefix: str = "") -> list[Customer]:
    """``count`` customers of ``user`` with many equal names and times, a third never
    contacted, and a mix of verified, long-unverified and never-verified ones."""
    customers = [factories.customer(user, f"{prefix}{NAMES[i % 5]}") for i in range(count)]
    for i, c in enumerate(customers):
        Customer.objects.filter(pk=c.pk).update(
            # Four distinct times (one of them on a whole second) shared by many rows.
            created_at=BASE + timedelta(hours=i % 4, microseconds=(i % 4) * 250_001),
            updated_at=BASE + timedelta(days=i % 3, microseconds=(i % 3) * 7),
            last_contact_at=None if i % 3 == 0 else BASE + timedelta(days=i % 5),
            verified_at=(
                None if i % 4 == 0 else timezone.now() - timedelta(days=400 if i % 4 == 1 else 5)
            ),
        )
    return customers


def expected_ids(user, sort: str, **filters) -> list[int]:
    """The order of the list page (the selector) for ``sort``; newest id first for -id."""
    if sort == "-id":
        rows = customer_list(actor=user, filters=CustomerFilters(**filters)).order_by("-id")
    else:
        rows = customer_list(actor=user, filters=CustomerFilters(sort=sort, **filters))
    return list(rows.values_list("id", flat=True))


def page_through(client, limit: int = 7, **params) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    cursors: list[str] = []
    cursor = ""
    for _page in range(100):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(API, query)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["items"]) <= limit
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids, cursors
        cursors.append(cursor)
    raise AssertionError("paging never ended")


def test_every_sort_is_the_page_order_and_keyset_sort_keys_match_the_page():
    assert set(SORT_KEYS) == set(SORTS)
    for sort, key in SORT_KEYS.items():
        assert key.order_by() == SORTS[sort][1], sort


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_paging_in_every_sort_neither_skips_nor_repeats(owner, teammate, sort):
    make_customers(owner)
    make_customers(teammate, count=3, prefix="T")  # outside the owner's scope
    client = token_client(owner)
    params = {} if sort == "-id" else {"sort": sort}
    ids, cursors = page_through(client, **params)
    expected = expected_ids(owner, sort)
    assert len(expected) == 30 and len(set(ids)) == 30
    assert ids == expected
    assert len(cursors) == 4  # 7 + 7 + 7 + 7 + 2
    if sort == "-id":
        assert ids == sorted(ids, reverse=True)
        assert all(c.isdigit() for c in cursors)  # as before: the id
    else:
        assert not any(c.isdigit() for c in cursors)
        # One page in one go gives the same order.
        whole = client.get(API, {"sort": sort, "limit": 200}).json()
        assert [item["id"] for item in whole["items"]] == expected
        assert whole["next_cursor"] is None


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
def test_paging_across_ties_and_nulls_with_other_page_sizes(owner, limit):
    make_customers(owner, count=12)
    client = token_client(owner)
    for sort in ("-last_contact", "last_contact", "name", "-updated"):
        ids, _cursors = page_through(client, limit=limit, sort=sort)
        assert ids == expected_ids(owner, sort), (sort, limit)


def test_never_contacted_go_last_or_first_as_on_the_page(owner):
    customers = make_customers(owner, count=9)
    never = {c.pk for i, c in enumerate(customers) if i % 3 == 0}
    client = token_client(owner)
    recent, _ = page_through(client, limit=2, sort="-last_contact")
    idle, _ = page_through(client, limit=2, sort="last_contact")
    assert set(recent[-3:]) == never and recent[-3:] == sorted(never, reverse=True)
    assert set(idle[:3]) == never and idle[:3] == sorted(never)
    contacted = {c.pk: c.last_contact_at for c in Customer.objects.filter(pk__in=recent[:6])}
    times = [contacted[pk] for pk in recent[:6]]
    assert times == sorted(times, reverse=True)


def test_name_sort_with_equal_names_goes_by_id(owner):
    make_customers(owner, count=10)
    ids, _ = page_through(token_client(owner), limit=3, sort="name")
    rows = {c.pk: c.name for c in Customer.objects.filter(pk__in=ids)}
    pairs = [(rows[pk], pk) for pk in ids]
    for name in NAMES:
        same = [pk for n, pk in pairs if n == name]
        assert same == sorted(same)


def test_stale_only_and_with_a_sort_and_pages(owner):
    customers = make_customers(owner, count=12)
    stale = {c.pk for i, c in enumerate(customers) if i % 4 in (0, 1)}
    client = token_client(owner)
    body = client.get(API, {"stale_only": "true"}).json()
    assert {item["id"] for item in body["items"]} == stale
    fresh = client.get(API, {"stale_only": "false"}).json()
    assert len(fresh["items"]) == 12
    ids, _ = page_through(client, limit=2, stale_only="true", sort="last_contact")
    assert set(ids) == stale
    assert ids == expected_ids(owner, "last_contact", stale_only=True)
    filtered, _ = page_through(client, limit=4, stale_only="true", q="alice", sort="-name")
    assert filtered == expected_ids(owner, "-name", stale_only=True, q="alice")


def test_rows_added_between_pages_do_not_shift_the_next_page(owner):
    make_customers(owner, count=10)
    client = token_client(owner)
    first = client.get(API, {"sort": "name", "limit": 5}).json()
    factories.customer(owner, "AAA first by name")  # sorts before the cursor
    rest, _ = page_through(client, limit=5, sort="name", cursor=first["next_cursor"])
    shown = [item["id"] for item in first["items"]] + rest
    assert len(shown) == len(set(shown)) == 10


def test_bad_sort_is_refused_naming_the_field(owner):
    client = token_client(owner)
    for value in ("updated_at", "-last_contact_at", "", "random"):
        response = client.get(API, {"sort": value})
        assert response.status_code == 422, value
        assert list(error_of(response)["fields"]) == ["sort"]


def test_unknown_parameters_are_refused(owner):
    factories.customer(owner, "张三")
    client = token_client(owner)
    # The list page's names are not the API's: refusing them beats a silently wider list.
    response = client.get(API, {"stale": "1", "owner": "3"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"owner", "stale"}
    assert error_of(response)["fields"]["stale"] == ["Unknown parameter."]
    assert client.get(API, {"stale_only": "1", "sort": "name"}).status_code == 200


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!",
        token("name", "张三"),  # two parts
        token("name", 5, 1),  # a number for a name
        token("name", None, 1),  # names are never empty
        token("name", "张三", 0),
        token("name", "张三", 2**63),
        token("name", "张三", True),
        token("-updated", "2026-03-01", 1),  # a time is microseconds
        token("-updated", 10**30, 1),
        token("-updated", 1.5, 1),
        token("nosuchsort", "x", 1),
        token(["name"], "x", 1),
        base64.urlsafe_b64encode(b'{"name": 1, "a": 2, "b": 3}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_bad_cursor_is_refused_naming_the_field(owner, cursor):
    factories.customer(owner, "张三")
    sort = "-updated" if "-updated" in cursor else "name"
    for params in ({"sort": sort}, {"sort": "-updated"}):
        response = token_client(owner).get(API, {**params, "cursor": cursor})
        assert response.status_code == 422, (cursor, response.content)
        assert list(error_of(response)["fields"]) == ["cursor"]


def test_a_cursor_of_another_sort_is_refused_and_says_which(owner):
    make_customers(owner, count=5)
    client = token_client(owner)
    by_name = client.get(API, {"sort": "name", "limit": 2}).json()["next_cursor"]
    by_id = client.get(API, {"limit": 2}).json()["next_cursor"]
    assert by_id.isdigit()
    for sort, cursor, made_for in (
        ("-name", by_name, "name"),
        ("-id", by_name, "name"),
        ("name", by_id, "-id"),
        ("last_contact", by_id, "-id"),
    ):
        response = client.get(API, {"sort": sort, "cursor": cursor})
        assert response.status_code == 422
        [message] = error_of(response)["fields"]["cursor"]
        assert f"sort={made_for}" in message, message
    zh = client.get(API, {"sort": "-name", "cursor": by_name}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "sort=name" in error_of(zh)["fields"]["cursor"][0]
    assert "游标" in error_of(zh)["fields"]["cursor"][0]


def test_todays_numeric_cursors_still_work(owner):
    customers = make_customers(owner, count=6)
    client = token_client(owner)
    middle = sorted(c.pk for c in customers)[3]
    for params in ({}, {"sort": "-id"}):
        body = client.get(API, {**params, "cursor": str(middle)}).json()
        assert [item["id"] for item in body["items"]] == sorted(
            (c.pk for c in customers if c.pk < middle), reverse=True
        )
    huge = client.get(API, {"cursor": "9" * 19}).json()  # beyond any id: from the top
    assert len(huge["items"]) == 6


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_owner_teammate_outsider_in_every_sort(owner, teammate, outsider, admin_user, sort):
    mine = {c.pk for c in make_customers(owner, count=8)}
    theirs = {c.pk for c in make_customers(teammate, count=5, prefix="T")}
    params = {} if sort == "-id" else {"sort": sort}
    assert set(page_through(token_client(owner), limit=3, **params)[0]) == mine
    assert set(page_through(token_client(teammate), limit=3, **params)[0]) == theirs
    assert page_through(token_client(outsider), limit=3, **params)[0] == []
    everyone, _ = page_through(token_client(admin_user), limit=3, **params)
    assert everyone == expected_ids(admin_user, sort) and set(everyone) == mine | theirs
    # A cursor from the owner's pages shows a colleague nothing of the owner's.
    cursor = page_through(token_client(owner), limit=3, **params)[1][0]
    rest, _ = page_through(token_client(teammate), limit=3, cursor=cursor, **params)
    assert set(rest) <= theirs
    stale = page_through(token_client(outsider), limit=3, stale_only="true", **params)[0]
    assert stale == []


@pytest.mark.parametrize("sort", ["name", "-name", "-last_contact", "last_contact", "-updated"])
def test_a_search_pages_in_every_sort_like_the_unsearched_list(owner, sort):
    # A search sorted by name orders by an expression (no index walk): the same order.
    make_customers(owner, 30)
    client = token_client(owner)
    ids, _cursors = page_through(client, limit=4, sort=sort, q="张三")
    unsearched = expected_ids(owner, sort)
    zhang = set(Customer.objects.filter(name="张三").values_list("id", flat=True))
    assert ids == [pk for pk in unsearched if pk in zhang] and len(ids) == 6

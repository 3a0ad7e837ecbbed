"""Saved filters: personal, named, validated; pages and API; others' do not exist."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, RuleViolation
from kehu.customers import saved_filters
from kehu.customers.models import SavedFilter
from tests import factories
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db

LIST = "/customers/"
SAVE = "/customers/saved-filters/"
API = "/api/v1/saved-filters"


def test_save_keeps_only_known_parameters_and_replaces_by_name(owner):
    saved, created = saved_filters.saved_filter_save(
        actor=owner, name="  杭州  活跃 ", query="page=2&city=杭州&evil=<script>&stage=active"
    )
    assert created and saved.name == "杭州 活跃"
    assert saved.query == "stage=active&city=%E6%9D%AD%E5%B7%9E"
    again, created = saved_filters.saved_filter_save(
        actor=owner, name="杭州 活跃", query="tier=key"
    )
    assert not created and again.pk == saved.pk and again.query == "tier=key"
    assert SavedFilter.objects.filter(owner=owner).count() == 1
    actions = list(
        AuditEvent.objects.filter(action__startswith="customer.saved_filter")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["customer.saved_filter.create", "customer.saved_filter.update"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("created_from=tomorrow", "query"),
        ("sort=password", "query"),
        ("stage=royalty", "query"),
        ("owner=abc", "query"),
        ("q=" + "x" * 101, "query"),
        ("created_from=2026-03-01&created_to=2026-01-01", "query"),
    ],
)
def test_bad_values_are_refused(owner, query, field):
    with pytest.raises(ValidationError) as caught:
        saved_filters.saved_filter_save(actor=owner, name="x", query=query)
    assert field in caught.value.message_dict
    assert not SavedFilter.objects.exists()


def test_names_are_required_and_unique_per_person(owner, teammate):
    with pytest.raises(ValidationError):
        saved_filters.saved_filter_save(actor=owner, name="   ", query="")
    with pytest.raises(ValidationError):
        saved_filters.saved_filter_save(actor=owner, name="长" * 101, query="")
    a, _ = saved_filters.saved_filter_save(actor=owner, name="A", query="tier=key")
    b, _ = saved_filters.saved_filter_save(actor=owner, name="B", query="tier=small")
    other, created = saved_filters.saved_filter_save(actor=teammate, name="A", query="")
    assert created and other.owner == teammate  # the same name for someone else is fine
    with pytest.raises(RuleViolation):
        saved_filters.saved_filter_update(actor=owner, saved_filter=b, name="A")
    renamed = saved_filters.saved_filter_update(
        actor=owner, saved_filter=b, name="C", query="stage=active&junk=1"
    )
    assert (renamed.name, renamed.query) == ("C", "stage=active")
    with pytest.raises(AccessDenied):
        saved_filters.saved_filter_update(actor=teammate, saved_filter=a, name="mine now")
    with pytest.raises(AccessDenied):
        saved_filters.saved_filter_delete(actor=teammate, saved_filter=a)
    assert list(saved_filters.saved_filter_list(actor=owner)) == [a, renamed]
    with pytest.raises(SavedFilter.DoesNotExist):
        saved_filters.saved_filter_get(actor=teammate, pk=a.pk)


def test_page_saves_the_current_filter_and_lists_it(owner, teammate):
    factories.customer(owner, "甲", city="杭州")
    client = signed_in(owner)
    page = client.get(LIST, {"city": "杭州", "page": "1"}).content.decode()
    assert 'name="query" value="city=%E6%9D%AD%E5%B7%9E"' in page
    response = client.post(SAVE, {"name": "杭州客户", "query": "city=%E6%9D%AD%E5%B7%9E&x=1"})
    assert response.status_code == 302
    assert response["Location"] == "/customers/?city=%E6%9D%AD%E5%B7%9E"
    saved = SavedFilter.objects.get(owner=owner)
    html = client.get(LIST).content.decode()
    assert f'data-saved-filter="{saved.pk}"' in html and "杭州客户" in html
    assert 'href="/customers/?city=%E6%9D%AD%E5%B7%9E"' in html
    # Not in a colleague's dropdown.
    assert "杭州客户" not in signed_in(teammate).get(LIST).content.decode()


def test_page_save_errors_are_shown_and_nothing_saved(owner):
    client = signed_in(owner)
    response = client.post(SAVE, {"name": "", "query": "city=x"}, follow=True)
    assert response.status_code == 200
    assert not SavedFilter.objects.exists()
    response = client.post(SAVE, {"name": "坏", "query": "created_from=abc"}, follow=True)
    assert "YYYY-MM-DD" in response.content.decode()
    assert not SavedFilter.objects.exists()
    assert client.get(SAVE).status_code == 405


def test_page_delete_only_own(owner, teammate):
    saved, _ = saved_filters.saved_filter_save(actor=owner, name="A", query="tier=key")
    assert signed_in(teammate).post(f"{SAVE}{saved.pk}/delete/").status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    response = signed_in(owner).post(f"{SAVE}{saved.pk}/delete/")
    assert response.status_code == 302
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_api_list_create_delete(owner, teammate, outsider):
    client = token_client(owner)
    response = client.post(
        API, {"name": "重点", "query_string": "tier=key&unknown=1"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "重点" and body["query_string"] == "tier=key"
    again = client.post(
        API, {"name": "重点", "query_string": "tier=small"}, content_type="application/json"
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert [f["name"] for f in client.get(API).json()] == ["重点"]
    assert token_client(teammate).get(API).json() == []
    # Someone else's: 404, and it stays.
    assert token_client(teammate).delete(f"{API}/{body['id']}").status_code == 404
    assert token_client(outsider).delete(f"{API}/{body['id']}").status_code == 404
    assert SavedFilter.objects.filter(pk=body["id"]).exists()
    assert client.delete(f"{API}/{body['id']}").status_code == 204
    assert client.delete(f"{API}/{body['id']}").status_code == 404


def test_api_validation(owner):
    client = token_client(owner)
    for payload, field in (
        ({"name": "x", "query_string": "created_to=2026-02-30"}, "query_string"),
        ({"name": "", "query_string": ""}, "name"),
        ({"name": "x", "query_string": "", "extra": 1}, "extra"),
        ({"name": "x", "query_string": "q=" + "=" * 1000}, "query_string"),
    ):
        response = client.post(API, payload, content_type="application/json")
        assert response.status_code == 422, (payload, response.content)
        assert field in response.json()["error"]["fields"], response.json()
    assert not SavedFilter.objects.exists()

"""The needs API: per customer, across customers with keyset pages and filters, the
summary, changes with version (409), soft delete, strict input, and 404 for anyone who may
not see or change the customer — with nothing changed."""

from __future__ import annotations

import pytest

from kehu.core.models import AuditEvent
from kehu.needs import services
from kehu.needs.models import Need
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"
BODY = {
    "title": "希望48小时内到货",
    "domain": "production",
    "nature": "material",
    "source": "interview",
}


def record(actor, customer, **fields):
    return services.need_create(actor=actor, customer=customer, **{**BODY, **fields})


def test_create_and_list_for_a_customer(owner):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    client = token_client(owner)
    url = f"/api/v1/customers/{customer.pk}/needs"
    created = client.post(
        url, {**BODY, "factor": "delivery_speed", "priority": "high"}, content_type=JSON
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["customer_id"] == customer.pk and body["customer_name"] == "上海明珠贸易有限公司"
    assert (body["factor"], body["priority"], body["status"], body["version"]) == (
        "delivery_speed",
        "high",
        "open",
        1,
    )
    assert body["author_id"] == owner.pk
    assert [n["id"] for n in client.get(url).json()] == [body["id"]]
    assert client.get(f"/api/v1/needs/{body['id']}").json()["title"] == BODY["title"]


def test_list_across_customers_keyset_pages_and_filters(owner, teammate):
    a = factories.customer(owner, "张三")
    b = factories.customer(owner, "李娜")
    theirs = factories.customer(teammate, "王五")
    for i in range(5):
        record(owner, a if i % 2 else b, title=f"需求{i}", status="met" if i == 4 else "open")
    record(teammate, theirs, title="别人的")
    client = token_client(owner)
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/needs?limit=2&cursor={cursor}").json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    found = client.get("/api/v1/needs?q=zs").json()["items"]
    assert {n["title"] for n in found} == {"需求1", "需求3"}
    assert [n["title"] for n in client.get("/api/v1/needs?status=met").json()["items"]] == ["需求4"]
    assert client.get("/api/v1/needs?factor=none").json()["items"].__len__() == 5
    assert client.get("/api/v1/needs?factor=quality").json()["items"] == []
    by_customer = client.get(f"/api/v1/needs?customer_id={a.pk}").json()["items"]
    assert {n["title"] for n in by_customer} == {"需求1", "需求3"}
    for bad in ("cursor=abc", "status=done", "domain=leisure", "limit=0", "factor=price"):
        response = client.get(f"/api/v1/needs?{bad}")
        assert response.status_code == 422, bad
        assert bad.split("=")[0] in error_of(response)["fields"]


def test_summary(owner, teammate):
    a = factories.customer(owner, "张三")
    record(owner, a, factor="quality", source="complaint")
    record(owner, a, domain="living", nature="spiritual", source="complaint", status="met")
    record(teammate, factories.customer(teammate, "王五"))
    summary = token_client(owner).get("/api/v1/needs/summary").json()
    assert summary["total"] == 2
    pairs = {(r["domain"], r["nature"]): r["count"] for r in summary["by_domain_nature"]}
    assert pairs == {
        ("production", "material"): 1,
        ("production", "spiritual"): 0,
        ("living", "material"): 0,
        ("living", "spiritual"): 1,
    }
    assert {r["value"]: r["count"] for r in summary["by_source"]}["complaint"] == 2
    assert {r["value"]: r["count"] for r in summary["by_factor"]} == {
        "": 1,
        "quality": 1,
        "reliability": 0,
        "delivery_speed": 0,
        "courtesy": 0,
    }
    open_only = token_client(owner).get("/api/v1/needs/summary?status=open").json()
    assert open_only["total"] == 1
    assert token_client(owner).get("/api/v1/needs/summary?status=x").status_code == 422


def test_patch_with_version_conflict_and_delete(owner):
    need = record(owner, factories.customer(owner, "张三"))
    client = token_client(owner)
    url = f"/api/v1/needs/{need.pk}"
    ok = client.patch(url, {"version": 1, "status": "in_progress"}, content_type=JSON)
    assert (
        ok.status_code == 200 and ok.json()["status"] == "in_progress" and ok.json()["version"] == 2
    )
    stale = client.patch(url, {"version": 1, "priority": "low"}, content_type=JSON)
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    need.refresh_from_db()
    assert (need.priority, need.version) == ("medium", 2)
    assert client.delete(f"{url}?version=1").status_code == 409
    assert client.delete(f"{url}?version=2").status_code == 204
    assert client.get(url).status_code == 404
    assert Need.all_objects.get(pk=need.pk).deleted_at is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**BODY, "title": ""}, "title"),
        ({**BODY, "title": "   "}, "title"),
        ({**BODY, "title": "长" * 201}, "title"),
        ({**BODY, "description": "长" * 10_001}, "description"),
        ({**BODY, "domain": "leisure"}, "domain"),
        ({**BODY, "factor": None}, "factor"),
        ({**BODY, "priority": 1}, "priority"),
        ({**BODY, "status": "done"}, "status"),
        ({**BODY, "author_id": 1}, "author_id"),
        ({"title": "x", "domain": "living", "nature": "material"}, "source"),
    ],
)
def test_bad_input_is_422_naming_the_field(owner, payload, field):
    customer = factories.customer(owner, "张三")
    response = token_client(owner).post(
        f"/api/v1/customers/{customer.pk}/needs", payload, content_type=JSON
    )
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Need.all_objects.exists()


def test_patch_refuses_null_unknown_fields_and_missing_version(owner):
    need = record(owner, factories.customer(owner, "张三"))
    client = token_client(owner)
    url = f"/api/v1/needs/{need.pk}"
    for payload in ({"version": 1, "title": None}, {"status": "met"}, {"version": 1, "x": 1}):
        assert client.patch(url, payload, content_type=JSON).status_code == 422, payload
    need.refresh_from_db()
    assert (need.status, need.version) == ("open", 1)


def test_owner_teammate_outsider(owner, teammate, outsider):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    assert token_client(owner).get(f"/api/v1/needs/{need.pk}").status_code == 200
    for intruder in (teammate, outsider):
        client = token_client(intruder)
        assert client.get(f"/api/v1/customers/{customer.pk}/needs").status_code == 404
        posted = client.post(f"/api/v1/customers/{customer.pk}/needs", BODY, content_type=JSON)
        assert posted.status_code == 404
        assert client.get(f"/api/v1/needs/{need.pk}").status_code == 404
        patched = client.patch(
            f"/api/v1/needs/{need.pk}", {"version": 1, "status": "met"}, content_type=JSON
        )
        assert patched.status_code == 404
        assert client.delete(f"/api/v1/needs/{need.pk}?version=1").status_code == 404
        assert client.get("/api/v1/needs").json()["items"] == []
        assert client.get("/api/v1/needs/summary").json()["total"] == 0
        assert client.get(f"/api/v1/needs?customer_id={customer.pk}").json()["items"] == []
    need.refresh_from_db()
    assert (need.status, need.version, need.deleted_at) == ("open", 1, None)
    assert Need.all_objects.count() == 1
    assert not AuditEvent.objects.filter(
        action__in=["needs.need.update", "needs.need.status", "needs.need.delete"]
    ).exists()


def test_unknown_and_huge_ids_are_404(owner):
    client = token_client(owner)
    assert client.get("/api/v1/customers/999999/needs").status_code == 404
    assert client.get("/api/v1/needs/999999").status_code == 404
    assert client.get(f"/api/v1/needs/{2**70}").status_code == 404
    assert client.get(f"/api/v1/customers/{2**70}/needs").status_code == 404
    assert client.get(f"/api/v1/needs?customer_id={2**70}").status_code == 422

from __future__ import annotations

import pytest

from kehu.core.models import AuditEvent
from kehu.customers.models import Customer
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_create_search_and_keyset_pages(owner):
    client = token_client(owner)
    response = client.post(
        "/api/v1/customers",
        {"name": "张三", "mobile": "138 1234 5678", "tags": ["VIP"], "city": "上海"},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["mobile"] == "138****5678"  # masked in every answer (custody)
        and body["owner_id"] == owner.pk
        and body["tags"] == ["VIP"]
    )
    for i in range(5):
        factories.customer(owner, f"客户{i}")
    found = client.get("/api/v1/customers?q=zs").json()
    assert [c["name"] for c in found["items"]] == ["张三"]
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/customers?limit=2&cursor={cursor}").json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)
    bad = client.get("/api/v1/customers?cursor=abc")
    assert bad.status_code == 422 and "cursor" in error_of(bad)["fields"]


def test_owner_teammate_outsider(owner, teammate, outsider):
    c = factories.customer(owner, "张三")
    assert token_client(owner).get(f"/api/v1/customers/{c.pk}").status_code == 200
    for intruder in (teammate, outsider):
        client = token_client(intruder)
        assert client.get(f"/api/v1/customers/{c.pk}").status_code == 404
        assert client.get(f"/api/v1/customers/{c.pk}/history").status_code == 404
        patch = client.patch(
            f"/api/v1/customers/{c.pk}", {"version": 1, "name": "x"}, content_type=JSON
        )
        assert patch.status_code == 404
        assert client.delete(f"/api/v1/customers/{c.pk}?version=1").status_code == 404
        assert (
            client.get("/api/v1/customers").json()["items"] == [] if intruder is teammate else True
        )
    c.refresh_from_db()
    assert c.name == "张三" and c.version == 1 and c.deleted_at is None
    assert not AuditEvent.objects.filter(
        action__in=["customer.update", "customers.customer.delete"]
    ).exists()


def test_patch_conflict_history_and_delete(owner):
    c = factories.customer(owner, "张三")
    client = token_client(owner)
    url = f"/api/v1/customers/{c.pk}"
    assert client.patch(url, {"version": 1, "city": "杭州"}, content_type=JSON).status_code == 200
    stale = client.patch(url, {"version": 1, "city": "北京"}, content_type=JSON)
    assert stale.status_code == 409
    history = client.get(f"{url}/history").json()
    assert any(h["field"] == "city" and h["new_value"] == "杭州" for h in history)
    invalid = client.patch(url, {"version": 2, "mobile": "000000"}, content_type=JSON)
    assert invalid.status_code == 422 and "mobile" in error_of(invalid)["fields"]
    assert client.delete(f"{url}?version=2").status_code == 404  # salespeople may not delete
    manager = token_client(factories.user("mgr", role_code="manager", team_obj=owner.team))
    assert manager.delete(f"{url}?version=1").status_code == 409
    assert manager.delete(f"{url}?version=2").status_code == 204
    assert client.get(url).status_code == 404
    assert Customer.all_objects.filter(pk=c.pk, deleted_at__isnull=False).exists()


def test_pool_claim_release_transfer(owner, teammate, admin_user):
    c = factories.customer(None, "公海客户")
    pool = token_client(owner).get("/api/v1/customer-pool").json()
    assert [p["name"] for p in pool] == ["公海客户"]
    assert token_client(owner).post(f"/api/v1/customers/{c.pk}/claim").status_code == 200
    second = token_client(teammate).post(f"/api/v1/customers/{c.pk}/claim")
    assert second.status_code == 409 and error_of(second)["code"] == "taken"
    assert token_client(teammate).post("/api/v1/customers/999999/claim").status_code == 404
    release = token_client(owner).post(
        f"/api/v1/customers/{c.pk}/release", {"reason": "无需求"}, content_type=JSON
    )
    assert release.status_code == 200 and release.json()["owner_id"] is None
    token_client(owner).post(f"/api/v1/customers/{c.pk}/claim")
    refused = token_client(owner).post(
        "/api/v1/customer-transfers",
        {"customer_ids": [c.pk], "to_user_id": teammate.pk, "reason": "x"},
        content_type=JSON,
    )
    assert refused.status_code == 404  # salespeople may not hand over
    moved = token_client(admin_user).post(
        "/api/v1/customer-transfers",
        {"customer_ids": [c.pk], "to_user_id": teammate.pk, "reason": "调岗"},
        content_type=JSON,
    )
    assert moved.status_code == 200, moved.content
    assert moved.json() == {"moved": 1}
    c.refresh_from_db()
    assert c.owner == teammate


def test_releasing_a_pool_customer_is_a_rule_conflict_and_dates_are_strict(owner, admin_user):
    c = factories.customer(None, "公海客户")
    response = token_client(admin_user).post(
        f"/api/v1/customers/{c.pk}/release", {"reason": "x"}, content_type=JSON
    )
    assert response.status_code == 409 and error_of(response)["code"] == "rule"
    bad = token_client(owner).post(
        "/api/v1/customers", {"name": "x", "birthday": 0}, content_type=JSON
    )
    assert bad.status_code == 422 and "birthday" in error_of(bad)["fields"]
    good = token_client(owner).post(
        "/api/v1/customers", {"name": "x", "birthday": "1990-05-01"}, content_type=JSON
    )
    assert good.status_code == 201 and good.json()["birthday"] == "1990-05-01"


def test_list_and_pool_pages_carry_sorted_tags_in_a_fixed_number_of_queries(owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factories.customer(owner, "张三", tags=["VIP", "展会2026", "Alpha"])
    factories.customer(owner, "李四")
    factories.customer(None, "王五", tags=["回访"])  # in the public pool
    client = token_client(owner)
    items = client.get("/api/v1/customers").json()["items"]
    assert {c["name"]: c["tags"] for c in items} == {
        "李四": [],
        "张三": sorted(["VIP", "展会2026", "Alpha"]),
    }
    pool = client.get("/api/v1/customer-pool").json()
    assert [(c["name"], c["tags"]) for c in pool] == [("王五", ["回访"])]
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/customers")
    for i in range(20):
        factories.customer(owner, f"客户{i}", tags=[f"标签{i}", "VIP"])
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/customers").json()["items"]) == 22
    assert len(many) == len(few)  # no query per customer or per tag

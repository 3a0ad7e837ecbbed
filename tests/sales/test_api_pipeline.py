"""The pipeline API: stages (configurable by administrators), opportunities through
them (move, win with an order or a contract, lose with a reason, reopen), the board, and
the owner / teammate / outsider matrix."""

from __future__ import annotations

import pytest

from kehu.core.models import AuditEvent
from kehu.sales import selectors, services
from kehu.sales.models import Contract, Opportunity, Order, PipelineStage
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def stages(db):
    return list(selectors.stage_list())


@pytest.fixture
def manager(db):
    return factories.user(
        "boss", role_code="manager", team_obj=factories.team("华东销售二组", "sales")
    )


@pytest.fixture
def rival(team_b):
    return factories.user("rival", role_code="sales", team_obj=team_b)


def make_opportunity(actor, customer, **fields):
    values = {"title": "扩容项目", "amount": "50000", **fields}
    return services.opportunity_create(actor=actor, customer=customer, **values)


def test_stages_for_everyone_who_sells_configured_by_administrators(owner, admin_user, stages):
    seller = token_client(owner)
    listed = seller.get("/api/v1/pipeline/stages").json()
    assert [s["probability"] for s in listed] == [10, 25, 50, 75, 90]
    assert listed[0]["name_zh_hans"] == "初步接洽"
    refused = seller.post("/api/v1/pipeline/stages", {"name_en": "X"}, content_type=JSON)
    assert refused.status_code == 404
    admin = token_client(admin_user)
    created = admin.post(
        "/api/v1/pipeline/stages",
        {"name_en": "Pilot", "name_zh_hans": "试用", "probability": 60},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    assert created.json()["position"] == 5
    url = f"/api/v1/pipeline/stages/{created.json()['id']}"
    patched = admin.patch(url, {"position": 2, "is_active": False}, content_type=JSON)
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert len(seller.get("/api/v1/pipeline/stages").json()) == 5
    assert len(seller.get("/api/v1/pipeline/stages?active=false").json()) == 6
    assert seller.patch(url, {"probability": 1}, content_type=JSON).status_code == 404
    assert PipelineStage.objects.get(pk=created.json()["id"]).probability == 60
    bad = admin.post(
        "/api/v1/pipeline/stages", {"name_en": "Y", "probability": 101}, content_type=JSON
    )
    assert bad.status_code == 422 and "probability" in error_of(bad)["fields"]
    nameless = admin.post("/api/v1/pipeline/stages", {"probability": 5}, content_type=JSON)
    assert nameless.status_code == 422 and "name_en" in error_of(nameless)["fields"]
    assert admin.patch("/api/v1/pipeline/stages/999999", {}, content_type=JSON).status_code == 404


def test_create_list_get_patch_and_keyset_pages(owner, teammate, stages):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    client = token_client(owner)
    created = client.post(
        "/api/v1/opportunities",
        {
            "customer_id": customer.pk,
            "title": "二期扩容",
            "amount": 80000,
            "stage_id": stages[1].pk,
            "expected_close": "2026-09-30",
        },
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["weighted_amount"], body["probability"]) == (
        "80000.00",
        "20000.00",
        25,
    )
    assert body["customer_name"] == "上海明珠贸易有限公司" and body["status"] == "open"
    soon = make_opportunity(owner, customer, expected_close="2026-07-01")
    undated = make_opportunity(owner, customer)
    later = make_opportunity(owner, customer, expected_close="2026-09-30", title="同日")
    make_opportunity(teammate, factories.customer(teammate, "李四"))
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/opportunities?limit=1&cursor={cursor}")
        assert page.status_code == 200, page.content
        seen += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [soon.pk, body["id"], later.pk, undated.pk]
    by_stage = client.get(f"/api/v1/opportunities?stage_id={stages[1].pk}").json()["items"]
    assert [o["id"] for o in by_stage] == [body["id"]]
    assert [o["id"] for o in client.get("/api/v1/opportunities?q=同日").json()["items"]] == [
        later.pk
    ]
    url = f"/api/v1/opportunities/{body['id']}"
    patched = client.patch(
        url, {"version": 1, "amount": "90000.5", "expected_close": None}, content_type=JSON
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["amount"], patched.json()["expected_close"]) == ("90000.50", None)
    stale = client.patch(url, {"version": 1, "title": "旧"}, content_type=JSON)
    assert stale.status_code == 409
    assert Opportunity.objects.get(pk=body["id"]).title == "二期扩容"
    for payload, field in (
        ({"customer_id": customer.pk, "title": "", "amount": "1"}, "title"),
        ({"customer_id": customer.pk, "title": "x", "amount": "-1"}, "amount"),
        ({"customer_id": customer.pk, "title": "x"}, "amount"),
        (
            {"customer_id": customer.pk, "title": "x", "amount": "1", "expected_close": "soon"},
            "expected_close",
        ),
    ):
        response = client.post("/api/v1/opportunities", payload, content_type=JSON)
        assert response.status_code == 422 and field in error_of(response)["fields"], payload
    assert Opportunity.objects.count() == 5


def test_move_win_lose_reopen_and_board(owner, stages):
    customer = factories.customer(owner, "张三")
    opportunity = make_opportunity(owner, customer, amount="1000")
    other = make_opportunity(owner, customer, amount="3000", title="另一个")
    client = token_client(owner)
    url = f"/api/v1/opportunities/{opportunity.pk}"
    moved = client.post(f"{url}/move", {"stage_id": stages[2].pk, "version": 1}, content_type=JSON)
    assert moved.status_code == 200 and moved.json()["stage_id"] == stages[2].pk
    # The second of two people dragging the same card gets a conflict; nothing moves.
    late = client.post(f"{url}/move", {"stage_id": stages[4].pk, "version": 1}, content_type=JSON)
    assert late.status_code == 409
    assert Opportunity.objects.get(pk=opportunity.pk).stage_id == stages[2].pk
    assert AuditEvent.objects.filter(action="sales.opportunity.move").count() == 1
    board = client.get("/api/v1/pipeline/board").json()
    column = {c["stage"]["id"]: c for c in board}
    assert column[stages[2].pk]["count"] == 1 and column[stages[2].pk]["weighted"] == "500.00"
    assert column[stages[0].pk]["amount"] == "3000.00"
    assert [c["id"] for c in column[stages[0].pk]["cards"]] == [other.pk]
    nowhere = client.post(f"{url}/move", {"stage_id": 999999, "version": 2}, content_type=JSON)
    assert nowhere.status_code == 409 and "stage_id" in error_of(nowhere)["fields"]
    won = client.post(f"{url}/win", {"version": 2, "create": "order"}, content_type=JSON)
    assert won.status_code == 200, won.content
    assert won.json()["status"] == "won" and won.json()["order_id"]
    order = Order.objects.get(pk=won.json()["order_id"])
    assert (order.customer_id, order.total) == (customer.pk, opportunity.amount)
    closed = client.post(f"{url}/move", {"stage_id": stages[0].pk, "version": 3}, content_type=JSON)
    assert closed.status_code == 409 and error_of(closed)["code"] == "closed"
    reopened = client.post(f"{url}/reopen", {"version": 3}, content_type=JSON)
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    no_reason = client.post(f"{url}/lose", {"version": 4}, content_type=JSON)
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["fields"]
    lost = client.post(f"{url}/lose", {"version": 4, "reason": "价格太高"}, content_type=JSON)
    assert lost.status_code == 200
    assert (lost.json()["status"], lost.json()["lost_reason"]) == ("lost", "价格太高")
    assert [o["id"] for o in client.get("/api/v1/opportunities?status=lost").json()["items"]] == [
        opportunity.pk
    ]
    other_url = f"/api/v1/opportunities/{other.pk}"
    contract = client.post(
        f"{other_url}/win", {"version": 1, "create": "contract"}, content_type=JSON
    )
    assert contract.status_code == 200 and contract.json()["contract_id"]
    assert Contract.objects.get(pk=contract.json()["contract_id"]).status == "draft"
    bad = client.post(f"{other_url}/win", {"version": 2, "create": "invoice"}, content_type=JSON)
    assert bad.status_code == 422 and "create" in error_of(bad)["fields"]


def test_delete_needs_the_delete_permission(owner, manager):
    opportunity = make_opportunity(owner, factories.customer(owner, "张三"))
    url = f"/api/v1/opportunities/{opportunity.pk}"
    assert token_client(owner).delete(f"{url}?version=1").status_code == 404
    assert token_client(manager).delete(f"{url}?version=2").status_code == 409
    assert token_client(manager).delete(f"{url}?version=1").status_code == 204
    assert Opportunity.all_objects.get(pk=opportunity.pk).deleted_at is not None


def test_access_matrix_owner_teammate_outsider(owner, teammate, outsider, rival, manager, stages):
    customer = factories.customer(owner, "张三")
    opportunity = make_opportunity(owner, customer)
    url = f"/api/v1/opportunities/{opportunity.pk}"
    assert token_client(owner).get(url).status_code == 200
    assert token_client(manager).get(url).status_code == 200
    for user in (teammate, outsider, rival):
        client = token_client(user)
        assert client.get(url).status_code == 404
        listed = client.get("/api/v1/opportunities").json().get("items", [])
        assert opportunity.pk not in {o["id"] for o in listed}
        board = client.get("/api/v1/pipeline/board")
        if board.status_code == 200:
            assert all(c["count"] == 0 for c in board.json())
        writes = [
            client.patch(url, {"version": 1, "title": "hacked"}, content_type=JSON),
            client.post(f"{url}/move", {"stage_id": stages[3].pk, "version": 1}, content_type=JSON),
            client.post(f"{url}/win", {"version": 1, "create": "order"}, content_type=JSON),
            client.post(f"{url}/lose", {"version": 1, "reason": "x"}, content_type=JSON),
            client.post(f"{url}/reopen", {"version": 1}, content_type=JSON),
            client.delete(f"{url}?version=1"),
        ]
        assert [w.status_code for w in writes] == [404] * 6, user
    opportunity.refresh_from_db()
    assert (opportunity.title, opportunity.version, opportunity.status) == ("扩容项目", 1, "open")
    assert opportunity.stage_id == stages[0].pk and opportunity.deleted_at is None
    assert not Order.objects.exists()
    response = token_client(rival).post(
        "/api/v1/opportunities",
        {"customer_id": customer.pk, "title": "x", "amount": "1"},
        content_type=JSON,
    )
    assert response.status_code == 404 and "customer_id" in error_of(response)["fields"]
    assert Opportunity.objects.count() == 1

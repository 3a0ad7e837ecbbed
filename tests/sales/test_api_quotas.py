"""The quotas API: setting plans (managers, in their scope), attainment against a
hand-computed fixture, the trend of a person or a team (only in the caller's scope), and
404 with nothing changed for anyone else."""

from __future__ import annotations

import pytest

from kehu.sales import services
from kehu.sales.models import Quota
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def manager(db):
    return factories.user(
        "boss", role_code="manager", team_obj=factories.team("华东销售二组", "sales")
    )


@pytest.fixture
def rival(team_b):
    return factories.user("rival", role_code="sales", team_obj=team_b)


def sell(actor, amount, when="2026-03-10T10:00:00+08:00", customer=None):
    return services.order_create(
        actor=actor,
        customer=customer,
        ordered_at=when,
        lines=[{"description": "货", "unit_price": amount}],
        payments=[{"amount": amount, "method": "transfer"}],
    )


def test_set_list_patch_delete_by_a_manager(manager, owner, rival, team_a):
    boss = token_client(manager)
    created = boss.post(
        "/api/v1/quotas",
        {"user_id": owner.pk, "period": "month", "starts_on": "2026-03-15", "amount": "10000"},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["starts_on"], body["amount"], body["label"]) == ("2026-03-01", "10000.00", "张三")
    assert body["team_id"] == team_a.pk
    team = boss.post(
        "/api/v1/quotas",
        {
            "team_id": team_a.pk,
            "period": "quarter",
            "starts_on": "2026-02-01",
            "amount": 50000,
            "new_customers": 5,
        },
        content_type=JSON,
    )
    assert team.status_code == 201 and team.json()["starts_on"] == "2026-01-01"
    again = boss.post(
        "/api/v1/quotas",
        {"user_id": owner.pk, "period": "month", "starts_on": "2026-03-01", "amount": "1"},
        content_type=JSON,
    )
    assert again.status_code == 409 and error_of(again)["code"] == "duplicate"
    both = boss.post(
        "/api/v1/quotas",
        {
            "user_id": owner.pk,
            "team_id": team_a.pk,
            "period": "month",
            "starts_on": "2026-04-01",
            "amount": "1",
        },
        content_type=JSON,
    )
    assert both.status_code == 422 and "user_id" in error_of(both)["fields"]
    elsewhere = boss.post(
        "/api/v1/quotas",
        {"user_id": rival.pk, "period": "month", "starts_on": "2026-04-01", "amount": "1"},
        content_type=JSON,
    )
    assert elsewhere.status_code == 404 and "user_id" in error_of(elsewhere)["fields"]
    assert Quota.objects.count() == 2
    listed = boss.get("/api/v1/quotas?limit=1").json()
    assert [q["id"] for q in listed["items"]] == [body["id"]]
    rest = boss.get(f"/api/v1/quotas?limit=1&cursor={listed['next_cursor']}").json()
    assert [q["id"] for q in rest["items"]] == [team.json()["id"]] and rest["next_cursor"] is None
    assert [q["id"] for q in boss.get("/api/v1/quotas?starts_on=2026-02-10").json()["items"]] == [
        team.json()["id"]
    ]
    assert [q["id"] for q in boss.get(f"/api/v1/quotas?user_id={owner.pk}").json()["items"]] == [
        body["id"]
    ]
    # The salesperson sees their own quota but may not change it.
    seller = token_client(owner)
    assert [q["id"] for q in seller.get("/api/v1/quotas").json()["items"]] == [body["id"]]
    url = f"/api/v1/quotas/{body['id']}"
    assert seller.patch(url, {"version": 1, "amount": "1"}, content_type=JSON).status_code == 404
    assert seller.delete(f"{url}?version=1").status_code == 404
    patched = boss.patch(
        url, {"version": 1, "amount": "12000", "new_customers": 3}, content_type=JSON
    )
    assert patched.status_code == 200 and patched.json()["amount"] == "12000.00"
    stale = boss.patch(url, {"version": 1, "amount": "1"}, content_type=JSON)
    assert stale.status_code == 409
    assert Quota.objects.get(pk=body["id"]).amount == 12000
    bad = boss.patch(url, {"version": 2, "amount": "-1"}, content_type=JSON)
    assert bad.status_code == 422 and "amount" in error_of(bad)["fields"]
    assert boss.delete(f"{url}?version=1").status_code == 409
    assert boss.delete(f"{url}?version=2").status_code == 204
    assert Quota.all_objects.get(pk=body["id"]).deleted_at is not None


def test_attainment_against_a_hand_computed_fixture(admin_user, manager, owner, teammate, team_a):
    for user, amount in ((owner, "10000"), (teammate, "5000")):
        services.quota_create(
            actor=admin_user, user=user, period="month", starts_on="2026-03-01", amount=amount
        )
    services.quota_create(
        actor=admin_user, team=team_a, period="month", starts_on="2026-03-01", amount="20000"
    )
    customer = factories.customer(owner, "张三")
    sell(owner, "3000", customer=customer)
    refunded = sell(owner, "2000")
    services.order_add_refund(actor=owner, order=refunded, amount="500", reason="退一件")
    sell(owner, "9999", when="2026-04-01T00:00:00+08:00")  # April in Shanghai: not March
    sell(owner, "7", when="2026-02-28T23:59:59+08:00")  # February
    sell(teammate, "5000")
    # owner: 3000 + 2000 - 500 = 4500 of 10000 → 45.0 %; teammate 5000 of 5000 → 100.0 %;
    # the team: 4500 + 5000 = 9500 of 20000 → 47.5 %.
    response = token_client(manager).get(
        "/api/v1/quotas/attainment?period=month&starts_on=2026-03-20"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["starts_on"], body["ends_on"]) == ("2026-03-01", "2026-03-31")
    rows = [(r["label"], r["actual"], r["percent"], r["rank"]) for r in body["rows"]]
    assert rows == [
        ("李娜", "5000.00", "100.0", 1),
        ("张三", "4500.00", "45.0", 2),
        ("华东销售一组", "9500.00", "47.5", None),
    ]
    assert body["rows"][1]["new_customers"] == 1
    own = (
        token_client(owner)
        .get("/api/v1/quotas/attainment?period=month&starts_on=2026-03-01")
        .json()
    )
    assert [r["label"] for r in own["rows"]] == ["张三"]
    for bad in ("period=week", "starts_on=2026/3/5"):
        response = token_client(owner).get(f"/api/v1/quotas/attainment?{bad}")
        assert response.status_code == 422 and bad.split("=")[0] in error_of(response)["fields"]


def test_trend_only_for_people_and_teams_in_scope(owner, teammate, manager, rival, team_a, team_b):
    sell(owner, "300", when=None)
    sell(teammate, "200", when=None)
    seller = token_client(owner)
    mine = seller.get(f"/api/v1/quotas/trend?user_id={owner.pk}&months=3")
    assert mine.status_code == 200, mine.content
    months = mine.json()["months"]
    assert len(months) == 3 and [m["amount"] for m in months] == ["0.00", "0.00", "300.00"]
    assert months[0]["month"] < months[2]["month"] and months[2]["month"].endswith("-01")
    for query in (f"user_id={teammate.pk}", f"team_id={team_a.pk}", f"user_id={rival.pk}"):
        assert seller.get(f"/api/v1/quotas/trend?{query}").status_code == 404, query
    boss = token_client(manager)
    team = boss.get(f"/api/v1/quotas/trend?team_id={team_a.pk}&months=1").json()
    assert team["months"][0]["amount"] == "500.00"
    assert boss.get(f"/api/v1/quotas/trend?user_id={teammate.pk}").status_code == 200
    assert boss.get(f"/api/v1/quotas/trend?team_id={team_b.pk}").status_code == 404
    assert boss.get(f"/api/v1/quotas/trend?user_id={rival.pk}").status_code == 404
    neither = boss.get("/api/v1/quotas/trend")
    assert neither.status_code == 422 and "user_id" in error_of(neither)["fields"]
    assert boss.get(f"/api/v1/quotas/trend?user_id={owner.pk}&months=99").status_code == 422


def test_outsider_sees_and_changes_nothing(admin_user, owner, outsider, rival):
    quota = services.quota_create(
        actor=admin_user, user=owner, period="year", starts_on="2026-01-01", amount="1"
    )
    for user in (outsider, rival):
        client = token_client(user)
        listed = client.get("/api/v1/quotas").json().get("items", [])
        assert quota.pk not in {q["id"] for q in listed}
        url = f"/api/v1/quotas/{quota.pk}"
        assert (
            client.patch(url, {"version": 1, "amount": "9"}, content_type=JSON).status_code == 404
        )
        assert client.delete(f"{url}?version=1").status_code == 404
        created = client.post(
            "/api/v1/quotas",
            {"user_id": owner.pk, "period": "month", "starts_on": "2026-01-01", "amount": "1"},
            content_type=JSON,
        )
        assert created.status_code == 404
        attainment = client.get("/api/v1/quotas/attainment?period=year&starts_on=2026-01-01")
        assert attainment.status_code == 404 or attainment.json()["rows"] == []
    quota.refresh_from_db()
    assert (quota.amount, quota.version, quota.deleted_at) == (1, 1, None)
    assert Quota.objects.count() == 1

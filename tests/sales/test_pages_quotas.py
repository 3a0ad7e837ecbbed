"""The quotas page against a hand-computed fixture (refunds subtracted, a cancelled order
and orders outside the period left out, new customers counted once), the trend, and
setting quotas: scope, conflicts, duplicates."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.models import AuditEvent
from kehu.sales import services
from kehu.sales.models import Quota
from kehu.sales.selectors import company_zone
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

PAGE = "/sales/quotas/"
MARCH = {"period": "month", "day": "2026-03-15"}


def sell(actor, customer, amount, when, **fields):
    return services.order_create(
        actor=actor,
        customer=customer,
        ordered_at=when,
        lines=[{"description": "货品", "quantity": "1", "unit_price": amount}],
        **fields,
    )


@pytest.fixture
def manager(team_a):
    return factories.user("boss", role_code="manager", team_obj=team_a, name="赵经理")


@pytest.fixture
def march(owner, teammate, manager, team_a):
    """March 2026 (Asia/Shanghai), worked out by hand:

    owner:    A 300.00 paid, 50.00 refunded → 250.00 (A is new: first order)
              B 1,200.00 (B is not new: ordered in January)
              walk-in 80.00 (no customer: counts in the amount, not as a customer)
              A 500.00 cancelled → left out
              C 700.00 at 2026-04-01 00:30 Shanghai (= 31 March 16:30 UTC) → left out
              → 1,530.00 of 2,000.00 = 76.5 %; new customers 1 of 2 = 50.0 %
    teammate: D 3,000.00 → 3,000.00 of 2,500.00 = 120.0 %; rank 1 (owner rank 2)
    team:     1,530.00 + 3,000.00 = 4,530.00 of 6,000.00 = 75.5 %
    """
    a = factories.customer(owner, "客户甲")
    b = factories.customer(owner, "客户乙")
    c = factories.customer(owner, "客户丙")
    d = factories.customer(teammate, "客户丁")
    sell(owner, b, "100.00", "2026-01-20T10:00:00+08:00")
    paid = sell(
        owner,
        a,
        "300.00",
        "2026-03-01T00:10:00+08:00",
        payments=[{"amount": "300", "method": "cash"}],
    )
    services.order_add_refund(actor=owner, order=paid, amount="50", reason="破损")
    sell(owner, b, "1200.00", "2026-03-18T15:00:00+08:00")
    sell(owner, None, "80.00", "2026-03-31T23:59:00+08:00", consumer_label="散客")
    cancelled = sell(owner, a, "500.00", "2026-03-05T09:00:00+08:00")
    services.order_cancel(actor=owner, order=cancelled, expected_version=cancelled.version)
    sell(owner, c, "700.00", "2026-04-01T00:30:00+08:00")
    sell(teammate, d, "3000.00", "2026-03-09T11:00:00+08:00")
    quota = {"period": "month", "starts_on": "2026-03-10"}
    return {
        "owner": services.quota_create(
            actor=manager, user=owner, amount="2000", new_customers=2, **quota
        ),
        "teammate": services.quota_create(actor=manager, user=teammate, amount="2500", **quota),
        "team": services.quota_create(actor=manager, team=team_a, amount="6000", **quota),
    }


def test_attainment_matches_the_hand_computed_fixture(manager, owner, teammate, march):
    response = signed_in(manager).get(PAGE, MARCH)
    assert response.status_code == 200
    rows = {item["row"].quota.pk: item for item in response.context["table"]}
    mine, theirs, team = (rows[march[k].pk] for k in ("owner", "teammate", "team"))
    assert (mine["row"].actual, mine["row"].percent) == (Decimal("1530.00"), Decimal("76.5"))
    assert (mine["row"].new_customers, mine["row"].new_customers_percent) == (1, Decimal("50.0"))
    assert (theirs["row"].actual, theirs["row"].percent) == (Decimal("3000.00"), Decimal("120.0"))
    assert (team["row"].actual, team["row"].percent) == (Decimal("4530.00"), Decimal("75.5"))
    assert (theirs["row"].rank, mine["row"].rank, team["row"].rank) == (1, 2, None)
    assert theirs["bar"] == Decimal(100) and mine["bar"] == Decimal("76.5")
    page = response.content.decode()
    assert response.context["period_label"] == "2026-03"
    row = page[page.index(f'data-quota="{march["owner"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "data-rank>2<" in row and "¥1,530.00" in row and "¥2,000.00" in row
    assert "76.5 %" in row and 'value="76.5"' in row and "1 / 2" in row
    assert [item["row"].quota.pk for item in response.context["table"]] == [
        march["teammate"].pk,
        march["owner"].pk,
        march["team"].pk,
    ]
    # The same period reached from any day in it; the quarter and the year hold no quota.
    again = signed_in(manager).get(PAGE, {"period": "month", "day": "2026-03-31"})
    assert len(again.context["table"]) == 3
    quarter = signed_in(manager).get(PAGE, {"period": "quarter", "day": "2026-03-31"})
    assert quarter.context["table"] == [] and 'id="no-quotas"' in quarter.content.decode()
    with translation.override("zh-hans"):  # the page's language
        assert quarter.context["period_label"] == _("%(year)d Q%(quarter)d") % {
            "year": 2026,
            "quarter": 1,
        }


def test_a_salesperson_sees_only_their_own_quota(owner, teammate, outsider, march):
    rows = signed_in(owner).get(PAGE, MARCH).context["table"]
    assert [item["row"].quota.pk for item in rows] == [march["owner"].pk]
    assert rows[0]["row"].actual == Decimal("1530.00") and not rows[0]["can_manage"]
    page = signed_in(owner).get(PAGE, MARCH).content.decode()
    assert "¥3,000.00" not in page and 'id="new-quota"' not in page
    assert signed_in(outsider).get(PAGE).status_code == 404


def test_trend_of_the_current_months(owner, teammate, manager, team_a):
    customer = factories.customer(owner, "客户甲")
    now = timezone.now().astimezone(company_zone())
    sell(owner, customer, "888.00", now)
    sell(owner, customer, "111.00", now - timedelta(days=40))
    month = now.date().replace(day=1)
    services.quota_create(actor=manager, user=owner, period="month", starts_on=month, amount="1000")
    client = signed_in(owner)
    response = client.get(PAGE)
    assert response.context["starts_on"] == month and response.context["trend_key"] == (
        f"user:{owner.pk}"
    )
    trend = response.context["trend"]
    assert len(trend["labels"]) == 12 and trend["labels"][-1] == month.strftime("%Y-%m")
    assert trend["actual"][-1] == "888.00" and trend["target"][-1] == "1000.00"
    assert sum(Decimal(x) for x in trend["actual"]) == Decimal("999.00")
    page = response.content.decode()
    assert 'id="trend-data"' in page and "vendor/echarts/echarts.min.js" in page
    start = page.index('id="trend-data" type="application/json">') + len(
        'id="trend-data" type="application/json">'
    )
    assert json.loads(page[start : page.index("</script>", start)]) == trend
    rows = response.context["table"]
    assert rows[0]["row"].percent == Decimal("88.8")

    # A salesperson cannot draw a colleague's or the team's trend: their own is shown.
    for other in (f"user:{teammate.pk}", f"team:{team_a.pk}", "nonsense", "user:x"):
        assert client.get(PAGE, {"trend": other}).context["trend_key"] == f"user:{owner.pk}"
    # The manager can, once the team has a quota.
    boss = signed_in(manager)
    assert boss.get(PAGE, {"trend": f"user:{owner.pk}"}).context["trend"]["actual"][-1] == (
        "888.00"
    )
    services.quota_create(actor=manager, team=team_a, period="month", starts_on=month, amount="9")
    team = boss.get(PAGE, {"trend": f"team:{team_a.pk}"})
    assert team.context["trend_key"] == f"team:{team_a.pk}"
    assert team.context["trend"]["actual"][-1] == "888.00"


def test_set_edit_and_delete_quotas(manager, owner, teammate, team_a):
    client = signed_in(manager)
    new = "/sales/quotas/new/"
    assert client.get(new).status_code == 200
    form = {
        "target": "person",
        "user": teammate.pk,
        "period": "quarter",
        "starts_on": "2026-05-20",
        "amount": "30000",
        "new_customers": "5",
    }
    missing = client.post(new, {**form, "user": ""})
    assert missing.status_code == 400 and "user" in missing.context["form"].errors
    bad = client.post(new, {**form, "amount": "1.234"})
    assert bad.status_code == 400 and "amount" in bad.context["form"].errors
    response = client.post(new, form)
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?period=quarter&day=2026-04-01"
    quota = Quota.objects.get()
    assert (quota.user, quota.team, quota.starts_on.isoformat(), quota.amount) == (
        teammate,
        team_a,
        "2026-04-01",
        Decimal("30000.00"),
    )
    duplicate = client.post(new, form)
    assert duplicate.status_code == 400 and "starts_on" in duplicate.context["form"].errors
    team = client.post(new, {**form, "target": "team", "team": team_a.pk, "user": ""})
    assert team.status_code == 302
    assert Quota.objects.filter(team=team_a, user__isnull=True).count() == 1

    edit = f"/sales/quotas/{quota.pk}/"
    assert client.get(edit).context["form"]["version"].value() == 1
    assert client.post(edit, {"amount": "35000", "version": 1}).status_code == 302
    quota.refresh_from_db()
    assert (quota.amount, quota.version) == (Decimal("35000.00"), 2)
    stale = client.post(edit, {"amount": "1", "version": 1})
    assert stale.status_code == 409 and stale.context["conflict"]
    quota.refresh_from_db()
    assert quota.amount == Decimal("35000.00")

    delete = f"/sales/quotas/{quota.pk}/delete/"
    assert client.get(delete).status_code == 405
    client.post(delete, {"version": "1"})  # stale: kept
    assert Quota.objects.filter(pk=quota.pk).exists()
    assert client.post(delete, {"version": "2"}).status_code == 302
    assert not Quota.objects.filter(pk=quota.pk).exists()
    assert AuditEvent.objects.filter(action__startswith="sales.quota.").count() == 4


def test_quota_writes_are_404_for_salespeople_and_outsiders(owner, teammate, outsider, march):
    quota = march["owner"]
    other_department = factories.user(
        "boss2", role_code="manager", team_obj=factories.team("客服二组", "service")
    )
    for intruder in (owner, teammate, outsider, other_department):
        client = signed_in(intruder)
        edit, delete = f"/sales/quotas/{quota.pk}/", f"/sales/quotas/{quota.pk}/delete/"
        assert client.get(edit).status_code == 404
        assert client.post(edit, {"amount": "1", "version": 1}).status_code == 404
        assert client.post(delete, {"version": 1}).status_code == 404
        if intruder is not other_department:
            assert client.get("/sales/quotas/new/").status_code == 404
            data = {"target": "person", "user": intruder.pk, "period": "month"}
            data.update(starts_on="2026-03-01", amount="1")
            assert client.post("/sales/quotas/new/", data).status_code == 404
    # Another department's manager may not plan for this team's people.
    data = {"target": "person", "user": owner.pk, "period": "year", "starts_on": "2026-01-01"}
    refused = signed_in(other_department).post("/sales/quotas/new/", {**data, "amount": "1"})
    assert refused.status_code == 400 and "user" in refused.context["form"].errors
    quota.refresh_from_db()
    assert (quota.amount, quota.version, quota.deleted_at) == (Decimal("2000.00"), 1, None)
    assert Quota.all_objects.count() == 3

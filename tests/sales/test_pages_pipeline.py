"""The pipeline pages: the board (counts, sums, filters, moves answered in JSON or as a
page), closing (won with an order, lost with a reason, reopen), the list, an
opportunity's pages and the stages. Scope, conflicts, audit, hostile text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.core.models import AuditEvent
from kehu.sales import selectors, services
from kehu.sales.models import Opportunity, Order, PipelineStage
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

BOARD = "/sales/pipeline/"
LIST = "/sales/opportunities/"
HOSTILE = "<script>alert(1)</script>"
JSON = {"HTTP_ACCEPT": "application/json"}


def stages() -> list[PipelineStage]:
    return list(selectors.stage_list())


def opportunity(actor, customer, title="二期仓库改造", amount="10000", stage=None, **fields):
    return services.opportunity_create(
        actor=actor, customer=customer, title=title, amount=amount, stage=stage, **fields
    )


@pytest.fixture
def manager(team_a):
    return factories.user("boss", role_code="manager", team_obj=team_a, name="赵经理")


def test_anonymous_is_sent_to_login():
    from django.test import Client

    for url in (BOARD, LIST, "/sales/opportunities/new/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_board_columns_counts_sums_and_cards(owner):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    first, second = stages()[0], stages()[2]  # 10 % and 50 %
    opportunity(owner, customer, "甲", "1000.00", first)
    opportunity(owner, customer, "乙", "2500.50", first, expected_close="2026-07-01")
    opportunity(owner, customer, "丙", "3000.00", second)
    lost = opportunity(owner, customer, "丁", "99999.00", second)
    services.opportunity_close(
        actor=owner, opportunity=lost, status="lost", reason="价格", expected_version=1
    )
    client = signed_in(owner)
    response = client.get(BOARD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    columns = {c.stage.pk: c for c in response.context["columns"]}
    assert len(columns) == 5
    assert (columns[first.pk].count, columns[first.pk].amount) == (2, Decimal("3500.50"))
    assert columns[first.pk].weighted == Decimal("350.05")
    assert (columns[second.pk].count, columns[second.pk].weighted) == (1, Decimal("1500.00"))
    assert response.context["total_count"] == 3
    assert response.context["total_amount"] == Decimal("6500.50")
    assert response.context["total_weighted"] == Decimal("1850.05")
    assert "¥3,500.50" in page and "¥350.05" in page and "¥1,500.00" in page
    assert "丁" not in page  # closed: not on the board
    assert page.count("data-card=") == 3
    assert 'draggable="true"' in page and "kehu/sales-pipeline.js" in page
    assert 'id="drop-won"' in page and 'id="drop-lost"' in page
    # Stage names in the reader's language.
    assert f"{first.name_en} <span" in page and first.name_zh_hans not in page
    zh = client.get(BOARD, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"{first.name_zh_hans} <span" in zh


def test_board_filters_and_fragment(owner, manager):
    a = factories.customer(owner, "张三")
    b = factories.customer(manager, "李娜")
    opportunity(owner, a, "张三的单子")
    opportunity(manager, b, "经理的单子")
    client = signed_in(manager)
    page = client.get(BOARD).content.decode()
    assert "张三的单子" in page and "经理的单子" in page
    mine = client.get(BOARD, {"owner": owner.pk}).content.decode()
    assert "张三的单子" in mine and "经理的单子" not in mine
    found = client.get(BOARD, {"q": "zs"}).content.decode()
    assert "张三的单子" in found and "经理的单子" not in found
    fragment = client.get(BOARD, {"q": "经理"}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="pipeline-board"') and "<html" not in fragment
    assert "经理的单子" in fragment and "张三的单子" not in fragment
    # A bad filter is ignored, not an error; the owner sees only their own.
    assert client.get(BOARD, {"owner": "x"}).status_code == 200
    assert "经理的单子" not in signed_in(owner).get(BOARD).content.decode()


def test_move_in_json_audited_and_stale_version_is_409(owner):
    customer = factories.customer(owner, "张三")
    opp = opportunity(owner, customer, HOSTILE)
    target = stages()[3]
    client = signed_in(owner)
    url = f"/sales/opportunities/{opp.pk}/move/"
    assert client.get(url).status_code == 405
    response = client.post(url, {"stage": target.pk, "version": 1}, **JSON)
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["version"] == 2
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == (target.pk, 2)
    event = AuditEvent.objects.get(action="sales.opportunity.move")
    assert event.object_id == str(opp.pk)
    assert event.changes == {"stage": [stages()[0].pk, target.pk]}

    # Someone else's drag got there first: 409, nothing changes, nothing is audited.
    stale = client.post(url, {"stage": stages()[1].pk, "version": 1}, **JSON)
    assert stale.status_code == 409
    assert stale.json()["ok"] is False and stale.json()["message"]
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == (target.pk, 2)
    assert AuditEvent.objects.filter(action="sales.opportunity.move").count() == 1

    # Not a stage, or an inactive stage: refused, unchanged.
    assert client.post(url, {"stage": "x", "version": 2}, **JSON).status_code == 400
    retired = services.stage_create(
        actor=factories.user("adm", role_code="administrator"), name_en="Old", is_active=False
    )
    assert client.post(url, {"stage": retired.pk, "version": 2}, **JSON).status_code == 409
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == (target.pk, 2)


def test_move_without_script_redirects_or_shows_the_board(owner):
    customer = factories.customer(owner, "张三")
    opp = opportunity(owner, customer)
    client = signed_in(owner)
    url = f"/sales/opportunities/{opp.pk}/move/"
    target = stages()[1]
    response = client.post(url, {"stage": target.pk, "version": 1, "next": f"{BOARD}?q=x"})
    assert response.status_code == 302 and response["Location"] == f"{BOARD}?q=x"
    offsite = client.post(url, {"stage": stages()[2].pk, "version": 2, "next": "https://x.cn/"})
    assert offsite["Location"] == BOARD
    stale = client.post(url, {"stage": stages()[4].pk, "version": 1})
    assert stale.status_code == 409
    assert 'id="board-message"' in stale.content.decode() and stale.context["alert"]
    opp.refresh_from_db()
    assert (opp.stage_id, opp.version) == (stages()[2].pk, 3)


def test_close_won_with_order_lost_with_reason_and_reopen(owner):
    customer = factories.customer(owner, "张三")
    opp = opportunity(owner, customer, amount="8800.00")
    client = signed_in(owner)
    url = f"/sales/opportunities/{opp.pk}/close/"
    assert client.get(url).status_code == 405

    # Lost needs a reason: refused, unchanged.
    client.post(url, {"status": "lost", "version": 1, "reason": "  "})
    opp.refresh_from_db()
    assert (opp.status, opp.version) == ("open", 1)

    response = client.post(url, {"status": "won", "version": 1, "create": "order", "next": BOARD})
    assert response.status_code == 302 and response["Location"] == BOARD
    opp.refresh_from_db()
    assert opp.status == "won" and opp.order_id
    order = Order.objects.get(pk=opp.order_id)
    assert (order.customer, order.total, order.owner) == (customer, Decimal("8800.00"), owner)
    assert AuditEvent.objects.filter(action="sales.opportunity.won").count() == 1
    # Off the board; a closed card cannot be moved.
    assert f'data-card="{opp.pk}"' not in client.get(BOARD).content.decode()
    move = f"/sales/opportunities/{opp.pk}/move/"
    refused = client.post(move, {"stage": stages()[1].pk, "version": opp.version}, **JSON)
    assert refused.status_code == 409

    # Stale: refused with a message.
    client.post(url, {"status": "open", "version": 1})
    opp.refresh_from_db()
    assert opp.status == "won"
    client.post(url, {"status": "open", "version": opp.version})
    opp.refresh_from_db()
    assert opp.status == "open"
    client.post(url, {"status": "lost", "version": opp.version, "reason": HOSTILE})
    opp.refresh_from_db()
    assert (opp.status, opp.lost_reason) == ("lost", HOSTILE)
    page = client.get(f"/sales/opportunities/{opp.pk}/").content.decode()
    assert HOSTILE not in page and "&lt;script&gt;" in page and 'id="reopen-form"' in page
    assert client.post(url, {"status": "nonsense", "version": opp.version}).status_code == 302
    opp.refresh_from_db()
    assert opp.status == "lost"


def test_list_status_filter(owner):
    customer = factories.customer(owner, "张三")
    opportunity(owner, customer, "开着的")
    won = opportunity(owner, customer, "赢了的")
    services.opportunity_win(actor=owner, opportunity=won, expected_version=1)
    lost = opportunity(owner, customer, "输了的")
    services.opportunity_close(
        actor=owner, opportunity=lost, status="lost", reason="预算", expected_version=1
    )
    client = signed_in(owner)

    def titles(**query):
        return sorted(o.title for o in client.get(LIST, query).context["page"])

    assert titles() == ["开着的"]
    assert titles(status="won") == ["赢了的"]
    assert titles(status="lost") == ["输了的"]
    assert titles(status="all") == sorted(["开着的", "赢了的", "输了的"])
    assert titles(status="nonsense") == ["开着的"]
    partial = client.get(LIST, {"status": "won"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="opportunity-results"') and "赢了的" in body


def test_create_edit_and_conflict(owner, teammate):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    client = signed_in(owner)
    chooser = client.get("/sales/opportunities/new/", {"q": "上海明珠"})
    assert chooser.status_code == 200
    assert f"?customer={customer.pk}" in chooser.content.decode()
    new = f"/sales/opportunities/new/?customer={customer.pk}"
    assert client.get(new).status_code == 200
    form = {"title": "年度采购", "amount": "12800.50", "stage": stages()[1].pk, "owner": owner.pk}
    bad = client.post(new, {**form, "title": " "})
    assert bad.status_code == 400 and "title" in bad.context["form"].errors
    for amount in ("-1", "1.005", "abc"):
        bad = client.post(new, {**form, "amount": amount})
        assert bad.status_code == 400 and "amount" in bad.context["form"].errors
    not_a_colleague = client.post(new, {**form, "owner": teammate.pk})
    assert not_a_colleague.status_code == 400
    assert not Opportunity.objects.exists()
    response = client.post(new, {**form, "expected_close": "2026-09-30"})
    opp = Opportunity.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/opportunities/{opp.pk}/"
    assert (opp.customer, opp.owner, opp.amount, opp.stage_id) == (
        customer,
        owner,
        Decimal("12800.50"),
        stages()[1].pk,
    )

    edit = f"/sales/opportunities/{opp.pk}/edit/"
    initial = client.get(edit).context["form"]
    assert initial["version"].value() == 1 and initial["title"].value() == "年度采购"
    changed = {"title": "年度采购（扩大）", "amount": "20000", "owner": owner.pk, "version": 1}
    assert client.post(edit, changed).status_code == 302
    opp.refresh_from_db()
    assert (opp.title, opp.amount, opp.version) == ("年度采购（扩大）", Decimal("20000.00"), 2)
    stale = client.post(edit, {**changed, "title": "旧的", "version": 1})
    assert stale.status_code == 409 and stale.context["conflict"]
    opp.refresh_from_db()
    assert opp.title == "年度采购（扩大）"


def test_pages_and_posts_are_404_for_teammate_and_outsider(owner, teammate, outsider):
    customer = factories.customer(owner, "张三")
    opp = opportunity(owner, customer, "张三的机会")
    base = f"/sales/opportunities/{opp.pk}/"
    for intruder in (teammate, outsider):
        client = signed_in(intruder)
        for url in (base, f"{base}edit/", f"/sales/opportunities/new/?customer={customer.pk}"):
            assert client.get(url).status_code == 404, url
        posts = {
            f"{base}edit/": {"title": "x", "amount": "1", "owner": intruder.pk, "version": 1},
            f"{base}move/": {"stage": stages()[2].pk, "version": 1},
            f"{base}close/": {"status": "won", "version": 1, "create": "order"},
            f"/sales/opportunities/new/?customer={customer.pk}": {
                "title": "x",
                "amount": "1",
                "stage": stages()[0].pk,
                "owner": intruder.pk,
            },
        }
        for url, data in posts.items():
            assert client.post(url, data).status_code == 404, url
        assert client.post(f"{base}move/", posts[f"{base}move/"], **JSON).status_code == 404
        if intruder is teammate:
            assert "张三的机会" not in client.get(BOARD).content.decode()
            assert "张三的机会" not in client.get(LIST, {"status": "all"}).content.decode()
        else:
            assert client.get(BOARD).status_code == 404
            assert client.get(LIST).status_code == 404
    opp.refresh_from_db()
    assert (opp.title, opp.stage_id, opp.status, opp.version) == (
        "张三的机会",
        stages()[0].pk,
        "open",
        1,
    )
    assert Opportunity.objects.count() == 1 and not Order.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="sales.opportunity.m").exists()


def test_manager_sees_and_moves_the_teams_cards(owner, manager):
    customer = factories.customer(owner, "张三")
    opp = opportunity(owner, customer)
    client = signed_in(manager)
    assert f'data-card="{opp.pk}"' in client.get(BOARD).content.decode()
    url = f"/sales/opportunities/{opp.pk}/move/"
    assert client.post(url, {"stage": stages()[1].pk, "version": 1}, **JSON).status_code == 200


def test_stages_admin(owner, admin_user):
    for url in ("/sales/pipeline/stages/", "/sales/pipeline/stages/new/"):
        assert signed_in(owner).get(url).status_code == 404
    assert signed_in(owner).post("/sales/pipeline/stages/new/", {"name_en": "X"}).status_code == 404
    client = signed_in(admin_user)
    page = client.get("/sales/pipeline/stages/").content.decode()
    assert page.count("data-stage=") == 5
    new = "/sales/pipeline/stages/new/"
    bad = client.post(new, {"name_en": "", "name_zh_hans": "", "probability": "101"})
    assert bad.status_code == 400 and "probability" in bad.context["form"].errors
    empty = client.post(new, {"probability": "40"})
    assert empty.status_code == 400 and "name_en" in empty.context["form"].errors
    response = client.post(
        new,
        {"name_zh_hans": "试用", "name_zh_hant": "試用", "name_en": "Trial", "probability": "60"},
    )
    assert response.status_code == 302
    stage = PipelineStage.objects.get(name_en="Trial")
    assert (stage.position, stage.probability, stage.is_active) == (5, 60, False)
    edit = f"/sales/pipeline/stages/{stage.pk}/"
    assert client.get(edit).context["form"]["name_zh_hans"].value() == "试用"
    data = {"name_en": "Trial", "name_zh_hans": "试用", "probability": "65", "position": "2"}
    assert client.post(edit, {**data, "is_active": "on"}).status_code == 302
    stage.refresh_from_db()
    assert (stage.probability, stage.position, stage.is_active) == (65, 2, True)
    assert signed_in(owner).post(edit, {**data, "probability": "1"}).status_code == 404
    stage.refresh_from_db()
    assert stage.probability == 65
    assert AuditEvent.objects.filter(action="sales.stage.update").count() == 1

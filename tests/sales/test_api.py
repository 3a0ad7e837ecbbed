"""The sales API, part one: the catalogue, orders (with anonymous consumers), payments,
refunds, linking, cancelling, deleting and a customer's sales — with money as exact
decimal strings, 409 on stale versions, 422 naming the field, and 404 (nothing changed)
for anyone who may not see or change the order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.core.models import AuditEvent
from kehu.sales import services
from kehu.sales.models import Order, OrderLine, Payment, Product, Refund
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def product(admin_user):
    return services.product_create(
        actor=admin_user, code="TEA-01", list_price="100.00", tax_rate="0.13", name_zh_hans="龙井"
    )


@pytest.fixture
def manager(db):
    """A manager (department scope) in another team of the owner's department."""
    return factories.user(
        "boss", role_code="manager", team_obj=factories.team("华东销售二组", "sales")
    )


@pytest.fixture
def rival(team_b):
    """A salesperson of another team: sales permissions, but not the owner's records."""
    return factories.user("rival", role_code="sales", team_obj=team_b)


def make_order(actor, customer=None, **fields):
    lines = fields.pop("lines", [{"description": "水", "unit_price": "10", "quantity": "2"}])
    return services.order_create(actor=actor, customer=customer, lines=lines, **fields)


# --- catalogue --------------------------------------------------------------------------


def test_products_list_create_get_patch(admin_user, owner, product):
    admin = token_client(admin_user)
    created = admin.post(
        "/api/v1/products",
        {
            "code": "CUP-02",
            "name_en": "Cup",
            "name_zh_hans": "杯子",
            "list_price": 12.5,
            "tax_rate": "0.13",
            "unit": "个",
        },
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["list_price"], body["tax_rate"], body["version"]) == ("12.50", "0.1300", 1)
    seller = token_client(owner)
    listed = seller.get("/api/v1/products?limit=1").json()
    assert [p["code"] for p in listed["items"]] == ["CUP-02"]
    second = seller.get(f"/api/v1/products?limit=1&cursor={listed['next_cursor']}").json()
    assert [p["code"] for p in second["items"]] == ["TEA-01"] and second["next_cursor"] is None
    assert [p["code"] for p in seller.get("/api/v1/products?q=龙井").json()["items"]] == ["TEA-01"]
    url = f"/api/v1/products/{body['id']}"
    assert seller.get(url).json()["name_zh_hans"] == "杯子"
    # A salesperson may not change the catalogue: 404, nothing changed.
    assert (
        seller.patch(url, {"version": 1, "list_price": "1"}, content_type=JSON).status_code == 404
    )
    assert (
        seller.post(
            "/api/v1/products", {"code": "X", "list_price": "1"}, content_type=JSON
        ).status_code
        == 404
    )
    retired = admin.patch(url, {"version": 1, "is_active": False}, content_type=JSON)
    assert retired.status_code == 200 and retired.json()["version"] == 2
    stale = admin.patch(url, {"version": 1, "list_price": "99"}, content_type=JSON)
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    assert Product.objects.get(pk=body["id"]).list_price == Decimal("12.50")
    assert [p["code"] for p in seller.get("/api/v1/products?active=true").json()["items"]] == [
        "TEA-01"
    ]
    assert [p["code"] for p in seller.get("/api/v1/products?active=false").json()["items"]] == [
        "CUP-02"
    ]
    taken = admin.post(
        "/api/v1/products", {"code": "TEA-01", "list_price": "1", "name_en": "x"}, content_type=JSON
    )
    assert taken.status_code == 409 and "code" in error_of(taken)["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"code": "A", "list_price": "-1"}, "list_price"),
        ({"code": "A", "list_price": "1.005"}, "list_price"),
        ({"code": "A", "list_price": True}, "list_price"),
        ({"code": "A", "list_price": "1", "tax_rate": "1.2"}, "tax_rate"),
        ({"code": "", "list_price": "1"}, "code"),
        ({"code": "A", "list_price": "1"}, "name_zh_hans"),  # no name in any language
    ],
)
def test_product_bad_input_is_422(admin_user, payload, field):
    response = token_client(admin_user).post("/api/v1/products", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Product.objects.exists()


# --- orders -----------------------------------------------------------------------------


def test_walk_in_order_with_payment_then_linked_appears_in_customer_sales(owner, product):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    client = token_client(owner)
    created = client.post(
        "/api/v1/orders",
        {
            "customer_id": None,
            "consumer_label": "散客 5号桌",
            "channel": "store",
            "lines": [
                {"product_id": product.pk, "quantity": 3, "discount": "10"},
                {"description": "包装袋", "unit_price": "0.50", "quantity": "2"},
            ],
            "payments": [{"amount": "100", "method": "cash"}],
        },
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["customer_id"] is None and order["consumer_label"] == "散客 5号桌"
    assert order["number"].startswith("SO-")
    assert (order["subtotal"], order["discount_total"], order["total"]) == (
        "301.00",
        "10.00",
        "291.00",
    )
    assert order["tax_total"] == "33.36"  # 290 × 0.13 / 1.13, half-up
    assert (order["paid_total"], order["outstanding"], order["payment_status"]) == (
        "100.00",
        "191.00",
        "partial",
    )
    assert [line["quantity"] for line in order["lines"]] == ["3.000", "2.000"]
    assert order["lines"][0]["description"] == "龙井" and order["lines"][0]["tax_rate"] == "0.1300"
    assert [p["amount"] for p in order["payments"]] == ["100.00"]
    assert isinstance(order["total"], str)
    url = f"/api/v1/orders/{order['id']}"
    paid = client.post(
        f"{url}/payments", {"amount": 191, "method": "wechat_pay"}, content_type=JSON
    )
    assert paid.status_code == 201
    assert (paid.json()["payment_status"], paid.json()["paid_total"]) == ("paid", "291.00")
    version = paid.json()["version"]
    linked = client.post(
        f"{url}/link", {"customer_id": customer.pk, "version": version}, content_type=JSON
    )
    assert linked.status_code == 200, linked.content
    assert linked.json()["customer_id"] == customer.pk and linked.json()["linked_at"]
    sales = client.get(f"/api/v1/customers/{customer.pk}/sales").json()
    assert sales["orders"] == 1 and sales["lifetime_total"] == "291.00"
    assert sales["paid"] == "291.00" and sales["outstanding"] == "0.00"
    assert [o["id"] for o in sales["latest_orders"]] == [order["id"]]
    # Linking twice is a rule conflict.
    again = client.post(
        f"{url}/link",
        {"customer_id": customer.pk, "version": linked.json()["version"]},
        content_type=JSON,
    )
    assert again.status_code == 409 and error_of(again)["code"] == "linked"
    assert AuditEvent.objects.filter(action="sales.order.link").count() == 1


def test_order_for_a_customer_get_list_filters_and_keyset_pages(owner, teammate):
    customer = factories.customer(owner, "张三")
    mine = [
        make_order(owner, customer if i % 2 else None, channel="online" if i == 4 else "store")
        for i in range(5)
    ]
    make_order(teammate)
    client = token_client(owner)
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/orders?limit=2&cursor={cursor}")
        assert page.status_code == 200, page.content
        seen += [o["id"] for o in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [o.pk for o in reversed(mine)]

    def ids(query):
        response = client.get(f"/api/v1/orders?{query}")
        assert response.status_code == 200, (query, response.content)
        return {o["id"] for o in response.json()["items"]}

    assert ids("anonymous=true") == {mine[0].pk, mine[2].pk, mine[4].pk}
    assert ids("anonymous=false") == ids(f"customer_id={customer.pk}") == {mine[1].pk, mine[3].pk}
    assert ids("channel=online") == {mine[4].pk}
    assert ids(f"q={mine[2].number}") == {mine[2].pk}
    assert ids("q=zs") == {mine[1].pk, mine[3].pk}
    assert ids("payment_status=unpaid") == {o.pk for o in mine}
    assert ids("date_from=2000-01-01&date_to=2000-01-02") == set()
    detail = client.get(f"/api/v1/orders/{mine[1].pk}").json()
    assert detail["customer_name"] == "张三" and len(detail["lines"]) == 1
    assert detail["payments"] == [] and detail["refunds"] == []
    for bad in (
        "cursor=abc",
        "cursor=99999999999999999999_1",
        "channel=shop",
        "limit=0",
        "date_from=2024/3/5",
        "anonymous=maybe",
    ):
        response = client.get(f"/api/v1/orders?{bad}")
        assert response.status_code == 422, bad
        assert bad.split("=")[0] in error_of(response)["fields"], bad


def test_patch_lines_and_header_stale_version_and_cancel(owner, product):
    order = make_order(owner)
    client = token_client(owner)
    url = f"/api/v1/orders/{order.pk}"
    changed = client.patch(
        url,
        {
            "version": 1,
            "delivery_status": "delivered",
            "notes": "送货上门",
            "lines": [{"product_code": "TEA-01", "quantity": "1.5"}],
        },
        content_type=JSON,
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["total"], body["delivery_status"], body["version"]) == ("150.00", "delivered", 2)
    assert [line["product_id"] for line in body["lines"]] == [product.pk]
    stale = client.patch(url, {"version": 1, "notes": "晚了"}, content_type=JSON)
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    order.refresh_from_db()
    assert (order.notes, order.version, order.total) == ("送货上门", 2, Decimal("150.00"))
    stale_cancel = client.post(f"{url}/cancel", {"version": 1, "reason": "x"}, content_type=JSON)
    assert stale_cancel.status_code == 409
    cancelled = client.post(
        f"{url}/cancel", {"version": 2, "reason": "顾客取消"}, content_type=JSON
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    refused = client.patch(url, {"version": 3, "notes": "x"}, content_type=JSON)
    assert refused.status_code == 409 and error_of(refused)["code"] == "cancelled"
    payment = client.post(f"{url}/payments", {"amount": "1"}, content_type=JSON)
    assert payment.status_code == 409 and not Payment.objects.exists()


def test_payments_refunds_over_refund_and_cancel_needs_refund(owner):
    order = make_order(owner, lines=[{"description": "套餐", "unit_price": "1280.50"}])
    client = token_client(owner)
    url = f"/api/v1/orders/{order.pk}"
    over = client.post(f"{url}/payments", {"amount": "1280.51"}, content_type=JSON)
    assert over.status_code == 409 and error_of(over)["code"] == "overpaid"
    assert "amount" in error_of(over)["fields"]
    assert (
        client.post(
            f"{url}/payments",
            {"amount": "1000", "method": "alipay", "reference": "AP-1"},
            content_type=JSON,
        ).status_code
        == 201
    )
    blocked = client.post(f"{url}/cancel", {"version": 2, "reason": "x"}, content_type=JSON)
    assert blocked.status_code == 409 and error_of(blocked)["code"] == "paid"
    refund = client.post(
        f"{url}/refunds",
        {"amount": "400", "reason": "退货一件", "goods_returned": True},
        content_type=JSON,
    )
    assert refund.status_code == 201, refund.content
    assert (refund.json()["refunded_total"], refund.json()["refunds"][0]["reason"]) == (
        "400.00",
        "退货一件",
    )
    too_much = client.post(
        f"{url}/refunds", {"amount": "600.01", "reason": "再退"}, content_type=JSON
    )
    assert too_much.status_code == 409 and error_of(too_much)["code"] == "over_refund"
    assert "amount" in error_of(too_much)["fields"]
    order.refresh_from_db()
    assert (order.refunded_total, Refund.objects.count()) == (Decimal("400.00"), 1)
    no_reason = client.post(f"{url}/refunds", {"amount": "1"}, content_type=JSON)
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["fields"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"description": "x", "unit_price": "1", "quantity": "0"}]}, "lines.0.quantity"),
        ({"lines": [{"description": "x", "unit_price": "1", "quantity": -2}]}, "lines.0.quantity"),
        (
            {"lines": [{"description": "x", "unit_price": "1", "quantity": "1.0001"}]},
            "lines.0.quantity",
        ),
        ({"lines": [{"description": "x", "unit_price": "abc"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "x", "unit_price": 0.001}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "x", "unit_price": "5", "discount": "6"}]}, "lines.0.discount"),
        ({"lines": [{"description": "x", "unit_price": "5", "tax_rate": "1"}]}, "lines.0.tax_rate"),
        (
            {"lines": [{"description": "ok", "unit_price": "1"}, {"unit_price": "1"}]},
            "lines.1.product",
        ),
        ({"lines": [{"product_id": 999999}]}, "lines.0.product"),
        ({"lines": [{"product_code": "NOPE"}]}, "lines.0.product"),
        ({"lines": [{"description": "x", "unit_price": "1", "colour": "red"}]}, "lines.0.colour"),
        ({"lines": []}, "lines"),
        ({"channel": "shop"}, "channel"),
        ({"currency": "GBP"}, "currency"),
        ({"ordered_at": "yesterday"}, "ordered_at"),
        ({"payments": [{"amount": "0"}]}, "payments.0.amount"),
        ({"payments": [{"amount": "5", "method": "bitcoin"}]}, "payments.0.method"),
    ],
)
def test_bad_order_input_is_422_naming_the_field_and_nothing_is_created(owner, change, field):
    payload = {"lines": [{"description": "水", "unit_price": "2"}], **change}
    response = token_client(owner).post("/api/v1/orders", payload, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"], error_of(response)
    assert not Order.all_objects.exists() and not OrderLine.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="sales.order").exists()


def test_bad_lines_in_a_patch_change_nothing(owner):
    order = make_order(owner)
    response = token_client(owner).patch(
        f"/api/v1/orders/{order.pk}",
        {
            "version": 1,
            "notes": "x",
            "lines": [{"description": "x", "unit_price": "1", "quantity": "0"}],
        },
        content_type=JSON,
    )
    assert response.status_code == 422 and "lines.0.quantity" in error_of(response)["fields"]
    order.refresh_from_db()
    assert (order.version, order.notes, order.lines.count()) == (1, "", 1)


def test_delete_needs_the_delete_permission_and_the_version(owner, manager):
    order = make_order(owner)
    url = f"/api/v1/orders/{order.pk}"
    assert token_client(owner).delete(f"{url}?version=1").status_code == 404
    boss = token_client(manager)
    assert boss.delete(f"{url}?version=7").status_code == 409
    assert boss.delete(f"{url}?version=1").status_code == 204
    assert token_client(owner).get(url).status_code == 404
    assert Order.all_objects.get(pk=order.pk).deleted_at is not None


def test_access_matrix_owner_teammate_outsider(owner, teammate, outsider, rival):
    customer = factories.customer(owner, "张三")
    order = make_order(owner, customer)
    walk_in = make_order(owner)
    theirs = factories.customer(rival, "王五")
    url = f"/api/v1/orders/{order.pk}"
    assert token_client(owner).get(url).status_code == 200
    for user in (teammate, outsider, rival):
        client = token_client(user)
        assert client.get(url).status_code == 404, user
        assert client.get(f"/api/v1/orders/{walk_in.pk}").status_code == 404
        assert order.pk not in {
            o["id"] for o in client.get("/api/v1/orders").json().get("items", [])
        }
        assert client.get(f"/api/v1/customers/{customer.pk}/sales").status_code == 404
        writes = [
            client.patch(url, {"version": 1, "notes": "hacked"}, content_type=JSON),
            client.post(f"{url}/payments", {"amount": "1"}, content_type=JSON),
            client.post(f"{url}/refunds", {"amount": "1", "reason": "x"}, content_type=JSON),
            client.post(f"{url}/cancel", {"version": 1}, content_type=JSON),
            client.delete(f"{url}?version=1"),
            client.post(
                f"/api/v1/orders/{walk_in.pk}/link",
                {"customer_id": theirs.pk, "version": 1},
                content_type=JSON,
            ),
        ]
        assert [w.status_code for w in writes] == [404] * 6, user
    order.refresh_from_db()
    walk_in.refresh_from_db()
    assert (order.version, order.notes, order.status, order.deleted_at) == (
        1,
        "",
        "confirmed",
        None,
    )
    assert walk_in.customer_id is None and not Payment.objects.exists()
    assert not Refund.objects.exists()
    # Nor may anyone sell to a customer they cannot see: 404 naming the field.
    response = token_client(rival).post(
        "/api/v1/orders",
        {"customer_id": customer.pk, "lines": [{"description": "x", "unit_price": "1"}]},
        content_type=JSON,
    )
    assert response.status_code == 404 and "customer_id" in error_of(response)["fields"]
    assert Order.objects.count() == 2


def test_a_manager_sees_and_changes_the_teams_orders(owner, teammate, manager, rival):
    customer = factories.customer(owner, "张三")
    order = make_order(owner, customer)
    other = make_order(teammate)
    outside = make_order(rival)
    boss = token_client(manager)
    listed = {o["id"] for o in boss.get("/api/v1/orders").json()["items"]}
    assert listed == {order.pk, other.pk}
    assert boss.get(f"/api/v1/orders/{outside.pk}").status_code == 404
    changed = boss.patch(
        f"/api/v1/orders/{order.pk}", {"version": 1, "notes": "经理备注"}, content_type=JSON
    )
    assert changed.status_code == 200 and changed.json()["owner_id"] == owner.pk
    assert boss.get(f"/api/v1/orders?owner_id={teammate.pk}").json()["items"][0]["id"] == other.pk


def test_customer_sales_is_for_whoever_sees_the_customer(owner, admin_user):
    customer = factories.customer(owner, "张三")
    make_order(admin_user, customer, lines=[{"description": "x", "unit_price": "10"}])
    make_order(owner, customer, lines=[{"description": "y", "unit_price": "5"}])
    sales = token_client(owner).get(f"/api/v1/customers/{customer.pk}/sales?limit=1").json()
    assert (sales["orders"], sales["lifetime_total"], len(sales["latest_orders"])) == (
        2,
        "15.00",
        1,
    )
    assert token_client(owner).get("/api/v1/customers/999999/sales").status_code == 404


def test_crediting_someone_outside_the_scope_is_422_naming_owner_id(owner, teammate, manager):
    payload = {"owner_id": teammate.pk, "lines": [{"description": "x", "unit_price": "1"}]}
    response = token_client(owner).post("/api/v1/orders", payload, content_type=JSON)
    assert response.status_code == 422 and "owner_id" in error_of(response)["fields"]
    assert not Order.all_objects.exists()
    # A manager may credit the sale to one of the team.
    credited = token_client(manager).post("/api/v1/orders", payload, content_type=JSON)
    assert credited.status_code == 201 and credited.json()["owner_id"] == teammate.pk


def test_keyset_pages_keep_orders_of_the_same_moment_apart(owner):
    same = "2024-03-05T09:30:00+08:00"
    orders = [make_order(owner, ordered_at=same) for _ in range(3)]
    newest = make_order(owner, ordered_at="2024-03-06T09:30:00.123456+08:00")
    older = make_order(owner, ordered_at="2024-03-01T00:00:00+08:00")
    client = token_client(owner)
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/orders?limit=2&cursor={cursor}").json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [newest.pk, *(o.pk for o in reversed(orders)), older.pk]

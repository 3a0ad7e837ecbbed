"""The order pages: list with filters, recording an order (customer or walk-in), its
detail with payments, refunds, delivery, cancel, link and delete, and editing it. Scope
(owner / teammate / outsider), per-line errors, conflicts, hostile text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from kehu.core.models import AuditEvent
from kehu.sales import services
from kehu.sales.forms_orders import TAX_PERCENT_ERROR
from kehu.sales.models import Order, OrderLine, Payment, Refund
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LIST = "/sales/orders/"
NEW = "/sales/orders/new/"
HOSTILE = "<script>alert(1)</script>"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture
def tea(admin_user):
    return services.product_create(
        actor=admin_user,
        code="TEA-01",
        list_price="100.00",
        tax_rate="0.13",
        name_zh_hans="龙井茶",
        name_en="Longjing tea",
        unit="box",
    )


def order_for(actor, customer=None, **fields):
    fields.setdefault("lines", [{"description": "水", "unit_price": "50", "quantity": "2"}])
    return services.order_create(actor=actor, customer=customer, **fields)


def line_post(rows, **header):
    """POST data of the order editor: header fields and ``{index: {field: value}}`` rows."""
    data = {"channel": "store", "delivery_status": "pending", "prices_include_tax": "on"}
    data["payment_method"] = "wechat_pay"
    data.update(header)
    for index, values in rows.items():
        for name, value in values.items():
            data[f"line-{index}-{name}"] = value
    return data


def snapshot(order):
    order.refresh_from_db()
    return (
        order.version,
        order.customer_id,
        order.status,
        order.paid_total,
        order.refunded_total,
        order.delivery_status,
        order.deleted_at,
        order.lines.count(),
    )


# --- List -------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login():
    from django.test import Client

    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_shows_own_orders_with_filters(owner, teammate, outsider, tea):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    mine = order_for(owner, customer, lines=[{"product_id": tea.pk, "quantity": "2"}])
    walk_in = order_for(owner, consumer_label="桌5 " + HOSTILE)
    theirs = order_for(teammate, consumer_label="teammate's walk-in")
    client = signed_in(owner)
    page = client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-order="{mine.pk}"' in html and f'data-order="{walk_in.pk}"' in html
    assert f'data-order="{theirs.pk}"' not in html
    assert f'href="/customers/{customer.pk}/"' in html and "¥200.00" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert 'id="new-order"' in html and 'id="new-walk-in"' in html

    def shown(query):
        rows = client.get(LIST, query).context["page"].object_list
        return {o.pk for o in rows}

    assert shown({"buyer": "anonymous"}) == {walk_in.pk}
    assert shown({"buyer": "customers"}) == {mine.pk}
    assert shown({"customer": customer.pk}) == {mine.pk}
    assert shown({"q": "桌5"}) == {walk_in.pk}
    assert shown({"q": mine.number}) == {mine.pk}
    assert shown({"payment_status": "paid"}) == set()
    assert shown({"owner": owner.pk}) == {mine.pk, walk_in.pk}
    assert shown({"date_from": "2000-01-01", "date_to": "2000-01-02"}) == set()
    # A bad filter value shows its error and is left out; never a 500.
    bad = client.get(LIST, {"date_from": "not a date", "channel": "x" * 10_000})
    assert bad.status_code == 200 and bad.context["form"].errors
    # The htmx request gets only the results.
    partial = client.get(LIST, {"buyer": "anonymous"}, headers={"HX-Request": "true"})
    assert b'id="order-results"' in partial.content and b"<html" not in partial.content

    assert signed_in(teammate).get(LIST).context["page"].object_list[0] == theirs
    assert signed_in(outsider).get(LIST).status_code == 404


def test_dates_show_and_filter_in_the_users_time_zone(team_a):
    from datetime import UTC, datetime

    shanghai = factories.user("sh", role_code="administrator", team_obj=team_a)
    london = factories.user("ldn", role_code="administrator", time_zone="Europe/London")
    order = order_for(shanghai, ordered_at=datetime(2026, 3, 5, 16, 30, tzinfo=UTC))
    seen = signed_in(shanghai).get(LIST, {"date_from": "2026-03-06", "date_to": "2026-03-06"})
    assert "2026-03-06 00:30" in seen.content.decode()
    assert [o.pk for o in seen.context["page"].object_list] == [order.pk]
    there = signed_in(london).get(LIST, {"date_from": "2026-03-05", "date_to": "2026-03-05"})
    assert "2026-03-05 16:30" in there.content.decode()
    assert [o.pk for o in there.context["page"].object_list] == [order.pk]
    assert not signed_in(london).get(LIST, {"date_from": "2026-03-06"}).context["page"].object_list


def test_the_list_is_paginated(owner):
    for n in range(52):
        order_for(owner, consumer_label=f"c{n}")
    client = signed_in(owner)
    first = client.get(LIST)
    assert len(first.context["page"].object_list) == 50
    assert len(client.get(LIST, {"page": 2}).context["page"].object_list) == 2


# --- Record an order --------------------------------------------------------------------------


def test_record_an_order_for_a_customer_with_a_payment(owner, tea):
    customer = factories.customer(owner, "李娜")
    client = signed_in(owner)
    page = client.get(NEW, {"customer": customer.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="customer" value="{customer.pk}" checked' in html
    assert 'data-price="100.00" data-tax="13"' in html and "kehu/sales-orders.js" in html
    data = line_post(
        {
            0: {"product": str(tea.pk), "quantity": "3", "discount": "10"},
            1: {"product": "", "description": "", "quantity": "1"},  # blank: ignored
            4: {"description": "包装 " + FORMULA, "unit_price": "5.5", "tax_rate": "6"},
        },
        customer=str(customer.pk),
        payment_amount="100",
        payment_method="cash",
        notes="送到前台",
    )
    response = client.post(NEW, data)
    assert response.status_code == 302
    order = Order.objects.get()
    assert response["Location"] == f"/sales/orders/{order.pk}/"
    assert (order.customer, order.owner, order.total, order.paid_total) == (
        customer,
        owner,
        Decimal("295.50"),
        Decimal("100.00"),
    )
    assert order.payment_status == "partial" and order.notes == "送到前台"
    lines = list(order.lines.all())
    assert [line.tax_rate for line in lines] == [Decimal("0.1300"), Decimal("0.0600")]
    assert lines[1].description == "包装 " + FORMULA
    detail = client.get(response["Location"])
    assert "¥295.50" in detail.content.decode() and "¥195.50" in detail.content.decode()
    assert [order.number in str(m) for m in detail.context["messages"]] == [True]


def test_bad_lines_show_errors_next_to_the_line_and_create_nothing(owner, tea):
    client = signed_in(owner)
    rows = {
        0: {"product": str(tea.pk), "quantity": "-1"},
        2: {"description": "好东西", "unit_price": "abc", "quantity": "1"},
        5: {"description": "折扣太大", "unit_price": "10", "discount": "20"},
        7: {"description": "税率", "unit_price": "10", "tax_rate": "150"},
        8: {"product": "999999"},
        9: {"product": "not-a-number", "quantity": "1"},
        11: {"description": "x" * 10_000, "unit_price": "1"},
    }
    response = client.post(NEW, line_post(rows, consumer_label="散客", payment_amount="10"))
    assert response.status_code == 400
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert not Payment.objects.exists()
    errors = {row.index: set(row.errors) for row in response.context["rows"] if row.errors}
    assert errors == {
        0: {"quantity"},
        2: {"unit_price"},
        5: {"discount"},
        7: {"tax_rate"},
        8: {"product", "unit_price"},  # no such product, so no list price either
        9: {"product", "unit_price"},
        11: {"description"},
    }
    html = response.content.decode()
    assert 'data-line-error="7-tax_rate"' in html
    with translation.override("zh-hans"):  # the page's language
        assert str(TAX_PERCENT_ERROR) in html
    # Nothing typed is lost.
    assert 'name="line-2-unit_price" value="abc"' in html
    assert 'name="line-7-tax_rate" value="150"' in html
    assert 'value="散客"' in html and 'name="payment_amount"' in html
    assert f'<option value="{tea.pk}" data-price="100.00" data-tax="13" data-name' in html


def test_an_order_needs_a_line(owner):
    response = signed_in(owner).post(NEW, line_post({0: {"quantity": "1"}}))
    assert response.status_code == 400 and response.context["line_errors"]
    assert not Order.objects.exists()


def test_hostile_text_is_refused_or_escaped(owner):
    client = signed_in(owner)
    long = client.post(
        NEW,
        line_post({0: {"description": "水", "unit_price": "1"}}, consumer_label="y" * 10_000),
    )
    assert long.status_code == 400 and "consumer_label" in long.context["form"].errors
    assert not Order.objects.exists()
    response = client.post(
        NEW,
        line_post(
            {0: {"description": HOSTILE, "unit_price": "1"}},
            consumer_label=FORMULA,
            notes=HOSTILE,
        ),
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.consumer_label == FORMULA
    html = client.get(response["Location"]).content.decode()
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert FORMULA.replace("'", "&#x27;") in html


def test_add_and_remove_lines_and_find_a_customer_without_javascript(owner, teammate):
    customer = factories.customer(owner, "王小明")
    hidden = factories.customer(teammate, "王小明的同名")
    client = signed_in(owner)
    rows = {
        0: {"description": "甲", "unit_price": "1"},
        3: {"description": "乙", "unit_price": "2"},
    }
    added = client.post(NEW, {**line_post(rows), "add_line": "1"})
    assert added.status_code == 200 and not Order.objects.exists()
    assert [r.index for r in added.context["rows"]][:3] == [0, 3, 4]
    removed = client.post(NEW, {**line_post(rows), "remove_line": "0"})
    assert next(r.values.get("description") for r in removed.context["rows"]) == "乙"
    found = client.post(NEW, {**line_post(rows), "customer_q": "王小明", "find_customer": "1"})
    assert found.status_code == 200 and not Order.objects.exists()
    assert [c.pk for c in found.context["found"]] == [customer.pk]
    assert f'data-customer-option="{hidden.pk}"' not in found.content.decode()
    assert 'name="line-3-description" value="乙"' in found.content.decode()
    # A search typed but no customer picked: nothing is saved as a walk-in by mistake.
    typed = client.post(NEW, line_post(rows, customer="", customer_q="王小明"))
    assert typed.status_code == 200 and not Order.objects.exists()
    # The htmx search answers choices.
    fragment = client.get("/sales/orders/customers/", {"customer_q": "王小明"})
    assert f'value="{customer.pk}"' in fragment.content.decode()
    assert f'value="{hidden.pk}"' not in fragment.content.decode()


def test_a_customer_out_of_sight_cannot_be_sold_to(owner, teammate, outsider):
    theirs = factories.customer(teammate, "别人的客户")
    client = signed_in(owner)
    response = client.post(
        NEW, line_post({0: {"description": "水", "unit_price": "1"}}, customer=str(theirs.pk))
    )
    assert response.status_code == 400 and not Order.objects.exists()
    assert f"{theirs.pk}" not in str(response.context["customer"] or "")
    assert client.get(NEW, {"customer": theirs.pk}).context["customer"] is None
    assert signed_in(outsider).get(NEW).status_code == 404
    assert signed_in(outsider).post(NEW, line_post({0: {"description": "a"}})).status_code == 404
    assert not Order.objects.exists()


# --- Detail and scope ---------------------------------------------------------------------------


def actions(order):
    base = f"/sales/orders/{order.pk}/"
    v = str(order.version)
    return [
        (base + "payment/", {"amount": "1", "method": "cash"}),
        (base + "refund/", {"amount": "1", "reason": "坏了"}),
        (base + "delivery/", {"delivery_status": "delivered", "version": v}),
        (base + "cancel/", {"version": v}),
        (base + "link/", {"customer": "1", "version": v}),
        (base + "delete/", {"version": v}),
        (base + "edit/", line_post({0: {"description": "改", "unit_price": "9"}}, version=v)),
    ]


def test_detail_for_the_owner_and_404_for_teammate_and_outsider(owner, teammate, outsider):
    customer = factories.customer(owner, "张三")
    order = order_for(owner, customer, payments=[{"amount": "10", "method": "cash"}])
    walk_in = order_for(owner, consumer_label="散客")
    url = f"/sales/orders/{order.pk}/"
    page = signed_in(owner).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for marker in (
        'id="payment-form"',
        'id="refund-form"',
        'id="delivery-form"',
        'id="edit-order"',
    ):
        assert marker in html
    assert 'id="delete-order"' not in html  # salespeople do not delete
    assert 'id="link-customer"' not in html  # already a customer's
    assert (
        'id="link-customer"'
        in signed_in(owner).get(f"/sales/orders/{walk_in.pk}/").content.decode()
    )
    assert signed_in(owner).get(url + "edit/").status_code == 200

    for who in (teammate, outsider):
        client = signed_in(who)
        for target in (order, walk_in):
            before = snapshot(target)
            base = f"/sales/orders/{target.pk}/"
            assert client.get(base).status_code == 404
            assert client.get(base + "edit/").status_code == 404
            for action, data in actions(target):
                assert client.post(action, data).status_code == 404, action
            assert snapshot(target) == before
    assert Payment.objects.count() == 1 and not Refund.objects.exists()


def test_an_order_of_a_visible_customer_credited_to_someone_else_is_read_only(
    owner, teammate, admin_user
):
    customer = factories.customer(owner, "张三")
    order = services.order_create(
        actor=admin_user,
        customer=customer,
        owner=teammate,
        lines=[{"description": "服务", "unit_price": "100"}],
    )
    assert order.owner == teammate
    client = signed_in(owner)
    page = client.get(f"/sales/orders/{order.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="payment-form"' not in html and 'id="edit-order"' not in html
    before = snapshot(order)
    for action, data in actions(order):
        assert client.post(action, data).status_code == 404, action
    assert snapshot(order) == before


def test_payments_refunds_and_cancelling(owner):
    order = order_for(owner, consumer_label="散客")  # total 100
    client = signed_in(owner)
    base = f"/sales/orders/{order.pk}/"
    too_much = client.post(base + "payment/", {"amount": "150", "method": "cash"})
    assert too_much.status_code == 400 and "amount" in too_much.context["payment_form"].errors
    assert 'value="150"' in too_much.content.decode()
    bad = client.post(base + "payment/", {"amount": "1.234", "method": "nope"})
    assert bad.status_code == 400 and not Payment.objects.exists()
    assert client.get(base + "payment/").status_code == 405
    ok = client.post(base + "payment/", {"amount": "100", "method": "alipay", "reference": "A1"})
    assert ok.status_code == 302
    order.refresh_from_db()
    assert (order.paid_total, order.payment_status) == (Decimal("100.00"), "paid")

    cancel = client.post(base + "cancel/", {"version": order.version})
    assert cancel.status_code == 302
    order.refresh_from_db()
    assert order.status == "confirmed"  # money still held: refused with a message
    refused = client.get(base)
    assert [m.level_tag for m in refused.context["messages"]][-1] == "error"

    no_reason = client.post(base + "refund/", {"amount": "30", "reason": "  "})
    assert no_reason.status_code == 400 and "reason" in no_reason.context["refund_form"].errors
    over = client.post(base + "refund/", {"amount": "130", "reason": "退货"})
    assert over.status_code == 400 and "amount" in over.context["refund_form"].errors
    assert not Refund.objects.exists()
    partly = client.post(base + "refund/", {"amount": "30", "reason": "少一瓶"})
    assert partly.status_code == 302
    rest = client.post(base + "refund/", {"amount": "70", "reason": "退货", "goods_returned": "on"})
    assert rest.status_code == 302
    order.refresh_from_db()
    assert (order.refunded_total, order.payment_status, order.delivery_status) == (
        Decimal("100.00"),
        "refunded",
        "returned",
    )
    assert Refund.objects.filter(goods_returned=True).count() == 1

    stale = client.post(base + "cancel/", {"version": order.version - 1})
    assert stale.status_code == 302
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert client.post(base + "cancel/", {"version": order.version, "reason": "客户不要了"})
    order.refresh_from_db()
    assert order.status == "cancelled"
    html = client.get(base).content.decode()
    assert 'id="payment-form"' not in html and 'id="edit-order"' not in html
    assert AuditEvent.objects.filter(action="sales.order.cancel").count() == 1


def test_delivery_status(owner):
    order = order_for(owner)
    client = signed_in(owner)
    url = f"/sales/orders/{order.pk}/delivery/"
    assert (
        client.post(url, {"delivery_status": "bogus", "version": order.version}).status_code == 400
    )
    assert client.post(url, {"delivery_status": "delivered", "version": order.version})
    order.refresh_from_db()
    assert order.delivery_status == "delivered"
    client.post(url, {"delivery_status": "partial", "version": order.version - 1})  # stale
    order.refresh_from_db()
    assert order.delivery_status == "delivered"


def test_link_a_walk_in_order_to_a_customer(owner, teammate):
    customer = factories.customer(owner, "赵六")
    theirs = factories.customer(teammate, "赵六六")
    order = order_for(owner, consumer_label="戴帽子的先生")
    client = signed_in(owner)
    base = f"/sales/orders/{order.pk}/"
    search = client.get(base, {"link_q": "赵六"})
    assert [c.pk for c in search.context["found"]] == [customer.pk]
    fragment = client.get("/sales/orders/customers/", {"link_q": "赵六"}).content.decode()
    assert f'value="{customer.pk}"' in fragment and f'value="{theirs.pk}"' not in fragment

    refused = client.post(base + "link/", {"customer": theirs.pk, "version": order.version})
    assert refused.status_code == 400 and refused.context["link_form"].errors
    missing = client.post(base + "link/", {"version": order.version})
    assert missing.status_code == 400
    stale = client.post(base + "link/", {"customer": customer.pk, "version": order.version + 5})
    assert stale.status_code == 302
    order.refresh_from_db()
    assert order.customer is None

    linked = client.post(base + "link/", {"customer": customer.pk, "version": order.version})
    assert linked.status_code == 302
    order.refresh_from_db()
    assert order.customer == customer and order.linked_at is not None
    after = client.get(base)
    page = after.content.decode()
    assert "赵六" in page and 'id="link-customer"' not in page
    assert f'href="/customers/{customer.pk}/" data-customer="{customer.pk}"' in page
    notes = [str(m) for m in after.context["messages"]]
    assert order.number in notes[-1] and "赵六" in notes[-1]
    rows = client.get(LIST, {"customer": customer.pk}).context["page"].object_list
    assert [o.pk for o in rows] == [order.pk]
    again = client.post(base + "link/", {"customer": customer.pk, "version": order.version})
    assert again.status_code == 302
    order.refresh_from_db()
    assert order.customer == customer


def test_delete_needs_the_delete_permission(owner, admin_user):
    order = order_for(owner)
    url = f"/sales/orders/{order.pk}/delete/"
    assert signed_in(owner).post(url, {"version": order.version}).status_code == 404
    client = signed_in(admin_user)
    assert 'id="delete-order"' in client.get(f"/sales/orders/{order.pk}/").content.decode()
    client.post(url, {"version": order.version + 1})  # stale: refused
    assert Order.objects.filter(pk=order.pk).exists()
    response = client.post(url, {"version": order.version})
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Order.objects.filter(pk=order.pk).exists()
    assert Order.all_objects.filter(pk=order.pk, deleted_at__isnull=False).exists()
    assert client.get(f"/sales/orders/{order.pk}/").status_code == 404


# --- Edit ---------------------------------------------------------------------------------------


def test_edit_an_order(owner, tea):
    order = order_for(owner, lines=[{"product_id": tea.pk, "quantity": "2.5"}])
    client = signed_in(owner)
    url = f"/sales/orders/{order.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200
    first = page.context["rows"][0]
    assert first.values["quantity"] == "2.5" and first.values["tax_rate"] == "13"
    assert page.context["form"]["version"].value() == order.version
    rows = {
        0: {"product": str(tea.pk), "quantity": "1", "unit_price": "100", "tax_rate": "13"},
        1: {"description": "运费", "unit_price": "20"},
    }
    bad = client.post(url, line_post({0: {"description": "改", "quantity": "x"}}, version=1))
    assert bad.status_code == 400 and bad.context["rows"][0].errors
    order.refresh_from_db()
    assert order.total == Decimal("250.00") and order.version == 1
    ok = client.post(url, line_post(rows, version=1, notes="改了", consumer_label="老王"))
    assert ok.status_code == 302
    order.refresh_from_db()
    assert (order.total, order.notes, order.consumer_label, order.lines.count()) == (
        Decimal("120.00"),
        "改了",
        "老王",
        2,
    )
    stale = client.post(url, line_post({0: {"description": "冲突", "unit_price": "1"}}, version=1))
    assert stale.status_code == 409 and stale.context["conflict"]
    assert 'value="冲突"' in stale.content.decode()
    order.refresh_from_db()
    assert order.total == Decimal("120.00")

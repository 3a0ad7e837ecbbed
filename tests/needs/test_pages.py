"""The needs pages: the card on the customer file, recording and changing a need, and the
Needs page with filters and summary counts. Scope, conflicts, hostile text."""

from __future__ import annotations

import pytest

from kehu.core.models import AuditEvent
from kehu.needs import services
from kehu.needs.models import Need
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LIST = "/needs/"
FORM = {
    "title": "希望48小时内到货",
    "description": "",
    "domain": "production",
    "nature": "material",
    "factor": "delivery_speed",
    "source": "interview",
    "priority": "high",
    "status": "open",
}
HOSTILE = "<script>alert(1)</script>"


def record(actor, customer, **fields):
    data = {k: v for k, v in FORM.items()}
    data.update(fields)
    return services.need_create(actor=actor, customer=customer, **data)


def test_anonymous_is_sent_to_login():
    from django.test import Client

    response = Client().get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_item_and_page_for_who_may_see_customers(owner, outsider):
    page = signed_in(owner).get("/").content.decode()
    assert f'href="{LIST}"' in page
    assert signed_in(owner).get(LIST).status_code == 200
    noperm = factories.user("noperm", role_code=None)
    assert signed_in(noperm).get(LIST).status_code == 404
    assert f'href="{LIST}"' not in signed_in(noperm).get("/").content.decode()


def test_record_a_need_from_the_customer_file(owner):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    client = signed_in(owner)
    file = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="needs"' in file and 'id="record-need"' in file and 'id="no-needs"' in file
    new = f"/needs/customer/{customer.pk}/new/"
    assert client.get(new).status_code == 200
    bad = client.post(new, {**FORM, "title": "  ", "domain": "x"})
    assert bad.status_code == 400
    assert {"title", "domain"} <= set(bad.context["form"].errors)
    assert not Need.objects.exists()
    response = client.post(new, {**FORM, "title": HOSTILE})
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/#needs"
    need = Need.objects.get()
    assert (need.customer, need.author, need.title, need.factor) == (
        customer,
        owner,
        HOSTILE,
        "delivery_speed",
    )
    file = client.get(f"/customers/{customer.pk}/").content.decode()
    assert f'data-need="{need.pk}"' in file and HOSTILE not in file and "&lt;script&gt;" in file


def test_edit_status_and_delete(owner):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    client = signed_in(owner)
    edit = f"/needs/{need.pk}/edit/"
    form = client.get(edit).context["form"]
    assert form["title"].value() == FORM["title"] and form["version"].value() == 1
    assert client.post(edit, {**FORM, "priority": "low", "version": 1}).status_code == 302
    need.refresh_from_db()
    assert (need.priority, need.version) == ("low", 2)
    stale = client.post(edit, {**FORM, "priority": "medium", "version": 1})
    assert stale.status_code == 409 and stale.context["conflict"]
    need.refresh_from_db()
    assert need.priority == "low"

    status = f"/needs/{need.pk}/status/"
    assert client.get(status).status_code == 405
    assert client.post(status, {"status": "met", "version": 2}).status_code == 302
    need.refresh_from_db()
    assert (need.status, need.version) == ("met", 3)
    client.post(status, {"status": "open", "version": 2})  # stale: refused
    client.post(status, {"status": "nonsense", "version": 3})  # not a status: refused
    need.refresh_from_db()
    assert (need.status, need.version) == ("met", 3)
    assert AuditEvent.objects.filter(action="needs.need.status").count() == 1

    delete = f"/needs/{need.pk}/delete/"
    client.post(delete, {"version": "1"})
    assert Need.objects.filter(pk=need.pk).exists()
    assert client.post(delete, {"version": "3"}).status_code == 302
    assert not Need.objects.filter(pk=need.pk).exists()


def test_the_needs_page_filters_and_counts(owner, teammate):
    a = factories.customer(owner, "张三")
    b = factories.customer(owner, "李娜")
    record(owner, a, title="交货要快")
    record(
        owner,
        b,
        title="售后态度",
        domain="living",
        nature="spiritual",
        factor="courtesy",
        source="complaint",
        status="met",
    )
    record(teammate, factories.customer(teammate, "王五"), title="别人的需求")
    client = signed_in(owner)
    response = client.get(LIST)
    page = response.content.decode()
    assert "交货要快" in page and "售后态度" in page and "别人的需求" not in page
    summary = response.context["summary"]
    assert summary["total"] == 2
    assert 'id="summary-total">2<' in page
    assert 'data-domain="living" data-nature="spiritual">1<' in page
    assert 'data-domain="production" data-nature="spiritual">0<' in page

    filtered = client.get(LIST, {"domain": "living"})
    assert [n.title for n in filtered.context["page"]] == ["售后态度"]
    assert filtered.context["summary"]["total"] == 1
    assert [n.title for n in client.get(LIST, {"q": "zs"}).context["page"]] == ["交货要快"]
    assert [n.title for n in client.get(LIST, {"factor": "courtesy"}).context["page"]] == [
        "售后态度"
    ]

    partial = client.get(LIST, {"status": "met"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="need-results">') and "<html" not in body
    assert "售后态度" in body and "交货要快" not in body

    # A bad filter value is ignored, not an error.
    assert client.get(LIST, {"status": "nonsense"}).status_code == 200


def test_pages_are_404_for_teammate_and_outsider(owner, teammate, outsider):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    for intruder in (teammate, outsider):
        client = signed_in(intruder)
        assert client.get(f"/customers/{customer.pk}/").status_code == 404
        assert client.get(f"/needs/customer/{customer.pk}/new/").status_code == 404
        assert client.post(f"/needs/customer/{customer.pk}/new/", FORM).status_code == 404
        assert client.get(f"/needs/{need.pk}/edit/").status_code == 404
        edit = {**FORM, "title": "x", "version": 1}
        assert client.post(f"/needs/{need.pk}/edit/", edit).status_code == 404
        status = {"status": "met", "version": 1}
        assert client.post(f"/needs/{need.pk}/status/", status).status_code == 404
        assert client.post(f"/needs/{need.pk}/delete/", {"version": 1}).status_code == 404
        assert FORM["title"] not in client.get(LIST).content.decode()
    need.refresh_from_db()
    assert (need.title, need.status, need.version, need.deleted_at) == (
        FORM["title"],
        "open",
        1,
        None,
    )
    assert Need.all_objects.count() == 1


def test_card_is_read_only_for_who_may_not_change(owner, auditor):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    page = signed_in(auditor).get(f"/customers/{customer.pk}/").content.decode()
    assert f'data-need="{need.pk}"' in page
    assert 'id="record-need"' not in page and "data-edit-need" not in page
    assert signed_in(auditor).get(f"/needs/{need.pk}/edit/").status_code == 404

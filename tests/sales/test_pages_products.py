"""The catalogue pages: the list for everyone who sells, create and edit for those who
manage the catalogue. Tax rate entered in percent, conflicts, hostile text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kehu.sales import services
from kehu.sales.models import Product
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LIST = "/sales/products/"
NEW = "/sales/products/new/"
HOSTILE = "<script>alert(1)</script>"
FORM = {
    "code": "TEA-01",
    "name_zh_hans": "龙井茶",
    "name_zh_hant": "龍井茶",
    "name_en": "Longjing tea",
    "category": "茶叶",
    "unit": "盒",
    "list_price": "128.50",
    "tax_rate": "13",
    "is_active": "on",
}


def make(admin, **fields):
    data = {"code": "P1", "list_price": "10", "tax_rate": "0.09", "name_zh_hans": "纸巾"}
    data.update(fields)
    return services.product_create(actor=admin, **data)


def test_the_list_for_who_sells_with_edit_buttons_for_catalogue_managers(
    owner, outsider, admin_user
):
    product = make(admin_user, name_zh_hans=HOSTILE)
    make(admin_user, code="OLD", is_active=False)
    page = signed_in(owner).get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-product="{product.pk}"' in html and "¥10.00" in html and "9 %" in html
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert 'id="new-product"' not in html and "data-edit-product" not in html
    admin_html = signed_in(admin_user).get(LIST).content.decode()
    assert 'id="new-product"' in admin_html and f'data-edit-product="{product.pk}"' in admin_html
    assert signed_in(outsider).get(LIST).status_code == 404
    rows = signed_in(owner).get(LIST, {"active": "no"}).context["rows"]
    assert [r["product"].code for r in rows] == ["OLD"]
    rows = signed_in(owner).get(LIST, {"q": "p1"}).context["rows"]
    assert [r["product"].code for r in rows] == ["P1"]
    assert signed_in(owner).get(LIST, {"q": "x" * 10_000}).status_code == 200


def test_only_catalogue_managers_create_and_edit(owner, admin_user):
    product = make(admin_user)
    client = signed_in(owner)  # a salesperson sees the catalogue but does not manage it
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, FORM).status_code == 404
    edit = f"/sales/products/{product.pk}/edit/"
    assert client.get(edit).status_code == 404
    assert client.post(edit, {**FORM, "version": product.version}).status_code == 404
    product.refresh_from_db()
    assert (product.code, Product.objects.count()) == ("P1", 1)
    assert signed_in(admin_user).get("/sales/products/999999/edit/").status_code == 404


def test_create_a_product_with_the_tax_rate_in_percent(admin_user):
    client = signed_in(admin_user)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, FORM)
    assert response.status_code == 302 and response["Location"] == LIST
    product = Product.objects.get()
    assert (product.code, product.list_price, product.tax_rate, product.is_active) == (
        "TEA-01",
        Decimal("128.50"),
        Decimal("0.1300"),
        True,
    )
    assert (product.name_zh_hant, product.unit, product.category) == ("龍井茶", "盒", "茶叶")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"tax_rate": "150"}, {"tax_rate"}),
        ({"tax_rate": "13.555"}, {"tax_rate"}),
        ({"tax_rate": "abc"}, {"tax_rate"}),
        ({"list_price": "-1"}, {"list_price"}),
        ({"list_price": "1,2,3"}, {"list_price"}),
        ({"name_zh_hans": "", "name_zh_hant": "", "name_en": ""}, {"name_zh_hans"}),
        ({"code": "x" * 10_000, "unit": "u" * 10_000}, {"code", "unit"}),
        ({"code": ""}, {"code"}),
    ],
)
def test_bad_input_names_the_field_and_keeps_what_was_typed(admin_user, changes, fields):
    response = signed_in(admin_user).post(NEW, {**FORM, **changes})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == fields
    assert not Product.objects.exists()
    assert 'value="龙井茶"' in response.content.decode() or "name_zh_hans" in fields


def test_a_taken_code_is_refused(admin_user):
    make(admin_user, code="TEA-01")
    response = signed_in(admin_user).post(NEW, FORM)
    assert response.status_code == 400 and "code" in response.context["form"].errors
    assert Product.objects.count() == 1


def test_edit_a_product_and_a_stale_edit_conflicts(admin_user):
    product = make(admin_user, tax_rate="0.13")
    client = signed_in(admin_user)
    edit = f"/sales/products/{product.pk}/edit/"
    form = client.get(edit).context["form"]
    assert form["tax_rate"].value() == "13" and form["list_price"].value() == "10"
    assert form["version"].value() == product.version
    data = {**FORM, "code": "P1", "tax_rate": "6", "is_active": "", "version": product.version}
    del data["is_active"]
    assert client.post(edit, data).status_code == 302
    product.refresh_from_db()
    assert (product.tax_rate, product.is_active, product.version) == (Decimal("0.0600"), False, 2)
    stale = client.post(edit, {**data, "list_price": "99", "version": 1})
    assert stale.status_code == 409 and stale.context["conflict"]
    assert 'value="99"' in stale.content.decode()
    product.refresh_from_db()
    assert product.list_price == Decimal("128.50")


def test_inactive_products_are_not_offered_for_new_orders(owner, admin_user):
    active = make(admin_user, code="ON")
    inactive = make(admin_user, code="OFF", is_active=False)
    html = signed_in(owner).get("/sales/orders/new/").content.decode()
    assert f'<option value="{active.pk}"' in html and f'<option value="{inactive.pk}"' not in html

"""Custody of the customer file (严格资料的利用和借阅): masked fields on every page and in the
API, the audited reveal, the edit form per role, the ID number check, and the lending book
("who looked at this file")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from kehu.accounts.models import Role
from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, RuleViolation
from kehu.core.permissions import Perm
from kehu.customers import custody, selectors, services
from kehu.customers.models import CustomerChange
from tests import factories
from tests.conftest import signed_in, token_client
from tests.customers.test_pages import edit_data

pytestmark = pytest.mark.django_db
JSON = "application/json"

MOBILE, MOBILE_MASKED = "+8613812345678", "138****5678"
PHONE, PHONE_MASKED = "+862161234567", "216****4567"
ID_NUMBER, ID_MASKED = "11010519491231002X", "110***********002X"
STREET, STREET_MASKED = "南京西路1266号", "南京****"
ADDRESS, ADDRESS_MASKED = "Flat 5, 10 Downing Street", "Fl****"
CLEAR = {
    "mobile": MOBILE,
    "phone": PHONE,
    "id_number": ID_NUMBER,
    "street": STREET,
    "address_text": ADDRESS,
}
MASKED = {
    "mobile": MOBILE_MASKED,
    "phone": PHONE_MASKED,
    "id_number": ID_MASKED,
    "street": STREET_MASKED,
    "address_text": ADDRESS_MASKED,
}


@pytest.fixture
def customer(owner):
    return factories.customer(
        owner,
        "张三",
        mobile="13812345678",
        phone="021 6123 4567",
        id_number="11010519491231002x",
        street=STREET,
        address_text=ADDRESS,
        city="上海",
    )


@pytest.fixture
def clerk(team_a):
    """A salesperson whose role may change customers but not reveal masked fields."""
    role = Role.objects.create(
        code="clerk",
        name_en="Clerk",
        name_zh_hans="文员",
        name_zh_hant="文員",
        data_scope="team",
        permissions=[Perm.VIEW_CUSTOMERS, Perm.CHANGE_CUSTOMERS],
    )
    user = factories.user("clerk", role_code=None, team_obj=team_a, name="文员")
    user.role = role
    user.save()
    return user


@pytest.fixture
def agent(team_a):
    """Sees the team's customers, may reveal, but may not read the lending book."""
    return factories.user("agent", role_code="service_agent", team_obj=team_a, name="客服")


def events(customer, action):
    return AuditEvent.objects.filter(
        action=action, object_type="customers.customer", object_id=str(customer.pk)
    )


def field_text(html: str, key: str) -> str:
    marker = f'data-field="{key}"'
    start = html.index(marker)
    start = html.index(">", start) + 1
    return html[start : html.index("<", start)]


# --- Masking ----------------------------------------------------------------------------


def test_the_id_number_is_normalised_and_stored(customer):
    assert customer.id_number == ID_NUMBER
    assert {name: getattr(customer, name) for name in CLEAR} == CLEAR


@pytest.mark.parametrize("who", ["owner", "admin_user", "auditor"])
def test_the_file_shows_masked_values_to_everyone(who, request, customer):
    html = (
        signed_in(request.getfixturevalue(who)).get(f"/customers/{customer.pk}/").content.decode()
    )
    for key, masked in MASKED.items():
        assert field_text(html, key) == masked, key
    for clear in CLEAR.values():
        assert clear not in html
    # The button is only there for roles that may reveal.
    assert ('id="reveal-button"' in html) == (who != "auditor")


def test_list_and_history_are_masked(owner, customer):
    client = signed_in(owner)
    html = client.get("/customers/").content.decode()
    assert MOBILE_MASKED in html and MOBILE not in html
    services.customer_update(
        actor=owner, customer=customer, expected_version=1, mobile="13900001111"
    )
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "139****1111" in page and "13900001111" not in page and MOBILE not in page
    history = token_client(owner).get(f"/api/v1/customers/{customer.pk}/history").json()
    mobile_rows = [h for h in history if h["field"] == "mobile"]
    assert {h["new_value"] for h in mobile_rows} == {"139****1111", MOBILE_MASKED}
    assert "13900001111" not in str(history)


def test_pool_page_masks_too(owner, admin_user):
    pooled = factories.customer(None, "深圳华强", mobile="13812345678")
    html = signed_in(owner).get("/customers/pool/").content.decode()
    assert f'data-customer="{pooled.pk}"' in html and MOBILE not in html


def test_api_output_is_always_masked(owner, admin_user, customer):
    for user in (owner, admin_user):
        client = token_client(user)
        body = client.get(f"/api/v1/customers/{customer.pk}").json()
        assert {key: body[key] for key in MASKED} == MASKED
        listed = client.get("/api/v1/customers").json()["items"]
        assert {key: listed[0][key] for key in MASKED} == MASKED
    created = token_client(owner).post(
        "/api/v1/customers", {"name": "李四", "mobile": "13900001111"}, content_type=JSON
    )
    assert created.status_code == 201 and created.json()["mobile"] == "139****1111"


# --- Reveal --------------------------------------------------------------------------------


def test_api_reveal_for_roles_that_may(owner, admin_user, customer):
    for user in (owner, admin_user):
        response = token_client(user).post(f"/api/v1/customers/{customer.pk}/reveal")
        assert response.status_code == 200, response.content
        assert response.json() == CLEAR
    recorded = events(customer, "customer.reveal").order_by("id")
    assert [e.actor for e in recorded] == [owner, admin_user]
    assert recorded[0].changes["fields"] == [None, sorted(CLEAR)]
    assert recorded[0].changes["via"] == [None, "api"]


@pytest.mark.parametrize("who", ["auditor", "teammate", "outsider"])
def test_api_reveal_refused_as_not_found(who, request, customer):
    client = token_client(request.getfixturevalue(who))
    response = client.post(f"/api/v1/customers/{customer.pk}/reveal")
    # Not allowed looks like not there (kehu never answers 403 for a missing right).
    assert response.status_code == 404
    assert MOBILE not in response.content.decode()
    assert not events(customer, "customer.reveal").exists()
    assert Client().post(f"/api/v1/customers/{customer.pk}/reveal").status_code == 401


def test_reveal_service_checks_right_and_scope(owner, teammate, auditor, customer):
    with pytest.raises(AccessDenied):
        custody.customer_reveal(actor=auditor, customer=customer)
    with pytest.raises(AccessDenied):  # may reveal, but not this customer
        custody.customer_reveal(actor=teammate, customer=customer)
    assert custody.customer_reveal(actor=owner, customer=customer) == CLEAR
    assert events(customer, "customer.reveal").count() == 1


def test_page_reveal_swaps_in_the_values(owner, customer):
    client = signed_in(owner)
    url = f"/customers/{customer.pk}/reveal/"
    assert client.get(url).status_code == 405
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="revealed-note"' in html
    assert html.count('hx-swap-oob="true"') == len(CLEAR)
    for key, clear in CLEAR.items():
        assert field_text(html, key) == clear
    # Without JavaScript: a page with the values.
    page = client.post(url).content.decode()
    assert "<html" in page and MOBILE in page
    assert events(customer, "customer.reveal").count() == 2
    assert events(customer, "customer.reveal").first().changes["via"] == [None, "page"]


@pytest.mark.parametrize("who", ["auditor", "teammate", "outsider", "clerk"])
def test_page_reveal_refused(who, request, customer):
    response = signed_in(request.getfixturevalue(who)).post(
        f"/customers/{customer.pk}/reveal/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 404 and MOBILE not in response.content.decode()
    assert not events(customer, "customer.reveal").exists()


def test_hostile_values_are_escaped_when_revealed(owner):
    hostile = factories.customer(
        owner, "x", street="<img src=x onerror=alert(1)>", address_text="=1+1"
    )
    response = signed_in(owner).post(
        f"/customers/{hostile.pk}/reveal/", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# --- The edit form ------------------------------------------------------------------------


def test_revealing_roles_see_and_edit_real_values_and_the_opening_is_audited(owner, customer):
    client = signed_in(owner)
    html = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert f'value="{MOBILE}"' in html and f'value="{ID_NUMBER}"' in html
    opened = events(customer, "customer.reveal").get()
    assert opened.changes["via"] == [None, "edit"] and opened.actor == owner
    customer.refresh_from_db()
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        edit_data(customer, mobile="13900001111", id_number="110101199003071233"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.mobile == "+8613900001111" and customer.id_number == "110101199003071233"
    assert events(customer, "customer.reveal").count() == 1  # saving is not another reveal


def test_other_roles_see_masked_read_only_fields_left_unchanged(clerk, admin_user):
    customer = services.customer_create(
        actor=admin_user, owner=clerk, name="张三", mobile="13812345678", street=STREET
    )
    client = signed_in(clerk)
    html = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert MOBILE not in html and STREET not in html
    assert f'value="{MOBILE_MASKED}"' in html
    assert 'name="mobile"' in html and "disabled" in html.split('name="mobile"')[1].split(">")[0]
    assert not events(customer, "customer.reveal").exists()
    # Whatever is posted for the masked fields, they stay; the rest is saved.
    data = edit_data(customer, city="杭州", mobile="13900001111", street="")
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.city, customer.mobile, customer.street) == ("杭州", MOBILE, STREET)
    assert not CustomerChange.objects.filter(
        customer=customer, field="mobile", new_value="+8613900001111"
    )


def test_non_revealers_may_not_change_masked_fields_through_the_api(clerk, admin_user):
    customer = services.customer_create(
        actor=admin_user, owner=clerk, name="张三", mobile="13812345678", street=STREET
    )
    client = token_client(clerk)
    body = client.get(f"/api/v1/customers/{customer.pk}").json()
    # Sending back what was shown (masked) changes nothing and is no error. (A masked
    # phone number does not pass the phone pattern: it is refused before, changing nothing.)
    echo = client.patch(
        f"/api/v1/customers/{customer.pk}",
        {"version": body["version"], "street": body["street"], "city": "杭州"},
        content_type=JSON,
    )
    assert echo.status_code == 200, echo.content
    customer.refresh_from_db()
    assert (customer.mobile, customer.street, customer.city) == (MOBILE, STREET, "杭州")
    refused = client.patch(
        f"/api/v1/customers/{customer.pk}",
        {"version": customer.version, "mobile": "13900001111"},
        content_type=JSON,
    )
    assert refused.status_code == 409 and "mobile" in refused.json()["error"]["fields"]
    customer.refresh_from_db()
    assert customer.mobile == MOBILE
    with pytest.raises(RuleViolation):
        services.customer_update(
            actor=clerk, customer=customer, expected_version=customer.version, street="x"
        )


def test_masked_echo_never_overwrites_for_revealers_either(owner, customer):
    services.customer_update(
        actor=owner, customer=customer, expected_version=1, street=STREET_MASKED, city="杭州"
    )
    customer.refresh_from_db()
    assert (customer.street, customer.city) == (STREET, "杭州")


# --- ID numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("110101199003071233", "110101199003071233"),
        ("E12345678", "E12345678"),  # a passport: free-form
        ("A123456(7)", "A123456(7)"),  # a Hong Kong ID
        ("11010519491231", "11010519491231"),  # not 18 characters: free-form
        ("", ""),
    ],
)
def test_id_numbers_accepted(owner, raw, stored):
    assert services.customer_create(actor=owner, name="x", id_number=raw).id_number == stored


@pytest.mark.parametrize(
    "raw",
    ["110105194912310021", "110101199013071230", "1" * 33],
)
def test_id_numbers_refused(owner, raw):
    with pytest.raises(ValidationError) as info:
        services.customer_create(actor=owner, name="x", id_number=raw)
    assert set(info.value.message_dict) == {"id_number"}


def test_id_number_through_form_and_api(owner):
    client = signed_in(owner)
    from tests.customers.test_pages import form_data

    bad = client.post("/customers/new/", form_data(name="张三", id_number="110105194912310021"))
    assert bad.status_code == 400 and 'data-error-for="id_number"' in bad.content.decode()
    api = token_client(owner)
    refused = api.post(
        "/api/v1/customers", {"name": "张三", "id_number": "110105194912310021"}, content_type=JSON
    )
    assert refused.status_code == 422 and "id_number" in refused.json()["error"]["fields"]
    too_long = api.post(
        "/api/v1/customers", {"name": "张三", "id_number": "1" * 33}, content_type=JSON
    )
    assert too_long.status_code == 422
    created = api.post(
        "/api/v1/customers", {"name": "张三", "id_number": ID_NUMBER}, content_type=JSON
    )
    assert created.status_code == 201 and created.json()["id_number"] == ID_MASKED


# --- The lending book ----------------------------------------------------------------------


def test_opening_the_file_is_recorded(owner, customer):
    signed_in(owner).get(f"/customers/{customer.pk}/")
    token_client(owner).get(f"/api/v1/customers/{customer.pk}")
    recorded = list(events(customer, "customer.view").order_by("id"))
    assert [e.changes["via"][1] for e in recorded] == ["page", "api"]
    assert all(e.actor == owner and e.object_label == "张三" for e in recorded)
    # A refused look records nothing.
    before = AuditEvent.objects.filter(action="customer.view").count()
    assert (
        signed_in(factories.user("nosy", role_code="member"))
        .get(f"/customers/{customer.pk}/")
        .status_code
        == 404
    )
    assert AuditEvent.objects.filter(action="customer.view").count() == before


def test_owner_and_auditor_read_who_looked(owner, auditor, admin_user, customer):
    signed_in(admin_user).get(f"/customers/{customer.pk}/")
    token_client(admin_user).post(f"/api/v1/customers/{customer.pk}/reveal")
    url = f"/customers/{customer.pk}/access/"
    for user in (owner, auditor, admin_user):
        response = signed_in(user).get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-action="customer.view"' in html and 'data-action="customer.reveal"' in html
        assert 'data-action="customer.create"' in html
        assert "管理员" in html  # who
    rows = [row["event"].action for row in signed_in(owner).get(url).context["rows"]]
    assert rows == ["customer.reveal", "customer.view", "customer.create"]
    # The link is on the file for them.
    assert (
        'id="access-log-link"'
        in signed_in(owner).get(f"/customers/{customer.pk}/").content.decode()
    )


@pytest.mark.parametrize("who", ["teammate", "outsider", "agent"])
def test_others_cannot_read_who_looked(who, request, customer, owner):
    user = request.getfixturevalue(who)
    if who == "agent":  # sees the team's customer, may not read its lending book
        assert signed_in(user).get(f"/customers/{customer.pk}/").status_code == 200
        assert (
            'id="access-log-link"'
            not in signed_in(user).get(f"/customers/{customer.pk}/").content.decode()
        )
    assert signed_in(user).get(f"/customers/{customer.pk}/access/").status_code == 404
    assert not selectors.file_access_log(actor=user, customer=customer).exists()
    assert Client().get(f"/customers/{customer.pk}/access/").status_code == 302


def test_access_page_is_paginated_newest_first(owner, customer):
    for _i in range(60):
        custody.customer_view_record(actor=owner, customer=customer)
    client = signed_in(owner)
    first = client.get(f"/customers/{customer.pk}/access/")
    assert first.context["page"].paginator.count == 61  # the creation and 60 openings
    ids = [row["event"].pk for row in first.context["rows"]]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    second = client.get(f"/customers/{customer.pk}/access/", {"page": 2})
    assert len(second.context["rows"]) == first.context["page"].paginator.count - 50
    assert max(row["event"].pk for row in second.context["rows"]) < min(ids)


def test_access_log_lists_only_this_customer(owner, customer):
    other = factories.customer(owner, "李四")
    signed_in(owner).get(f"/customers/{other.pk}/")
    log = selectors.file_access_log(actor=owner, customer=customer)
    assert {e.object_id for e in log} == {str(customer.pk)}
    assert not log.filter(action="customer.view").exists()


def test_hostile_custom_values_are_refused_or_escaped(owner, admin_user):
    from kehu.customers import custom_fields

    custom_fields.custom_field_create(
        actor=admin_user, key="remark", kind="text", label_en="Remark", label_zh_hans="备注"
    )
    client = token_client(owner)
    created = client.post(
        "/api/v1/customers",
        {"name": "张三", "custom": {"remark": '<script>alert(1)</script>=HYPERLINK("x")\x1b'}},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    assert created.json()["custom"]["remark"] == '<script>alert(1)</script>=HYPERLINK("x")'
    page = signed_in(owner).get(f"/customers/{cid}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;=HYPERLINK(&quot;x&quot;)" in page
    for value in ("长" * 10_000, {"x": 1}, ["a"]):
        response = client.patch(
            f"/api/v1/customers/{cid}",
            {"version": 1, "custom": {"remark": value}},
            content_type=JSON,
        )
        assert response.status_code == 422
    unknown = client.patch(
        f"/api/v1/customers/{cid}",
        {"version": 1, "custom": {"x" * 40: "<b>"}},
        content_type=JSON,
    )
    assert unknown.status_code == 422 and f"custom.{'x' * 40}" in unknown.json()["error"]["fields"]
    from kehu.customers.models import Customer

    assert Customer.objects.get(pk=cid).version == 1

"""Contacts of a customer: services, selectors, API and pages. Mobile numbers masked,
one primary contact per customer, conflicts, soft delete, and 404 for anyone who may not
see or change the customer — with nothing changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kehu.accounts.models import Role
from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError
from kehu.core.permissions import Perm
from kehu.customers import selectors, services
from kehu.customers.models import Contact
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def company(owner):
    return factories.customer(owner, "上海明珠贸易有限公司", kind="organisation")


def add(owner, customer, name="陈经理", **fields):
    return services.contact_create(actor=owner, customer=customer, name=name, **fields)


@pytest.fixture
def clerk(team_a):
    """May change customers (scope: all) but not reveal masked fields."""
    role = Role.objects.create(
        code="clerk",
        name_en="Clerk",
        name_zh_hans="文员",
        name_zh_hant="文員",
        data_scope="all",
        permissions=[Perm.VIEW_CUSTOMERS, Perm.CHANGE_CUSTOMERS],
    )
    return factories.user("clerk", role_code=role.code, team_obj=team_a, name="文员")


# --- Services ---------------------------------------------------------------------------


def test_create_normalises_phone_and_email_and_is_audited(owner, company):
    contact = add(
        owner,
        company,
        role=" 采购经理 ",
        mobile="138 1234 5678",
        email="Chen@Example.COM",
        wechat="chen_wx",
        is_primary=True,
    )
    assert (contact.mobile, contact.email, contact.role) == (
        "+8613812345678",
        "chen@example.com",
        "采购经理",
    )
    event = AuditEvent.objects.get(action="customers.contact.create")
    assert event.actor == owner and event.object_id == str(contact.pk)
    assert event.changes["customer"] == [None, company.pk]
    assert event.changes["mobile"] == [None, "+8613812345678"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "\x00\x07"}, "name"),
        ({"mobile": "000000"}, "mobile"),
        ({"mobile": "13812345678999"}, "mobile"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "长" * 101}, "role"),
        ({"name": "长" * 101}, "name"),
        ({"wechat": "w" * 65}, "wechat"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(owner, company, fields, field):
    data = {"name": "陈经理", **fields}
    with pytest.raises(ValidationError) as caught:
        services.contact_create(actor=owner, customer=company, **data)
    assert field in caught.value.message_dict
    assert not Contact.all_objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="customers.contact").exists()


def test_control_characters_are_removed_and_hostile_text_kept_as_text(owner, company):
    contact = add(owner, company, name="陈\x00经理\x1b", role=HOSTILE)
    assert contact.name == "陈经理" and contact.role == HOSTILE


def test_one_primary_contact_per_customer(owner, company):
    first = add(owner, company, "陈经理", is_primary=True)
    second = add(owner, company, "Alice Wong", is_primary=True)
    first.refresh_from_db()
    assert (first.is_primary, first.version) == (False, 2)
    assert second.is_primary
    event = AuditEvent.objects.filter(action="customers.contact.create").latest("id")
    assert event.changes["primary_before"] == [[first.pk], None]
    services.contact_update(
        actor=owner, contact=first, expected_version=first.version, is_primary=True
    )
    second.refresh_from_db()
    assert not second.is_primary
    assert list(Contact.objects.filter(customer=company, is_primary=True)) == [first]
    # Another customer's primary contact is not touched.
    other = factories.customer(owner, "杭州天成电子科技有限公司", kind="organisation")
    theirs = add(owner, other, "李娜", is_primary=True)
    add(owner, company, "王五", is_primary=True)
    theirs.refresh_from_db()
    assert theirs.is_primary


def test_update_with_a_stale_version_conflicts_and_keeps_the_newer_value(owner, company):
    contact = add(owner, company, role="采购")
    services.contact_update(actor=owner, contact=contact, expected_version=1, role="采购总监")
    stale = Contact.objects.get(pk=contact.pk)
    stale.version = 1
    with pytest.raises(ConflictError):
        services.contact_update(actor=owner, contact=stale, expected_version=1, role="财务")
    contact.refresh_from_db()
    assert (contact.role, contact.version) == ("采购总监", 2)
    update = AuditEvent.objects.get(action="customers.contact.update")
    assert update.changes == {"role": ["采购", "采购总监"]}


def test_update_without_changes_writes_nothing(owner, company):
    contact = add(owner, company, role="采购")
    services.contact_update(actor=owner, contact=contact, expected_version=1, role="采购")
    contact.refresh_from_db()
    assert contact.version == 1
    assert not AuditEvent.objects.filter(action="customers.contact.update").exists()


def test_delete_is_soft_versioned_and_audited(owner, company):
    contact = add(owner, company)
    with pytest.raises(ConflictError):
        services.contact_delete(actor=owner, contact=contact, expected_version=7)
    services.contact_delete(actor=owner, contact=contact, expected_version=1)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None
    assert AuditEvent.objects.filter(action="customers.contact.delete").count() == 1


def test_only_who_may_change_the_customer_may_change_its_contacts(
    owner, teammate, outsider, company
):
    contact = add(owner, company, role="采购")
    for intruder in (teammate, outsider):
        with pytest.raises(AccessDenied):
            services.contact_create(actor=intruder, customer=company, name="x")
        with pytest.raises(AccessDenied):
            services.contact_update(actor=intruder, contact=contact, expected_version=1, role="x")
        with pytest.raises(AccessDenied):
            services.contact_delete(actor=intruder, contact=contact, expected_version=1)
    contact.refresh_from_db()
    assert (contact.role, contact.version, contact.deleted_at) == ("采购", 1, None)
    assert Contact.objects.count() == 1


def test_selectors_are_scoped_and_hide_deleted_customers(owner, teammate, admin_user, company):
    contact = add(owner, company)
    assert list(selectors.contact_list(actor=owner, customer=company)) == [contact]
    assert list(selectors.contact_list(actor=teammate, customer=company)) == []
    assert selectors.contact_get(actor=admin_user, pk=contact.pk) == contact
    with pytest.raises(Contact.DoesNotExist):
        selectors.contact_get(actor=teammate, pk=contact.pk)
    from kehu.core.services import record_soft_delete

    record_soft_delete(actor=admin_user, obj=company)
    assert list(selectors.contact_list(actor=admin_user, customer=company)) == []
    with pytest.raises(Contact.DoesNotExist):
        selectors.contact_get(actor=admin_user, pk=contact.pk)


def test_reveal_needs_the_right_and_is_audited(owner, clerk, company):
    contact = add(owner, company, mobile="13812345678")
    assert services.contact_reveal(actor=owner, contact=contact)["mobile"] == "+8613812345678"
    event = AuditEvent.objects.get(action="customers.contact.reveal")
    assert event.actor == owner and event.changes == {"fields": [None, ["mobile"]]}
    with pytest.raises(AccessDenied):
        services.contact_reveal(actor=clerk, contact=contact)


# --- API ------------------------------------------------------------------------------------


def test_api_create_list_patch_delete_with_masked_mobile(owner, company):
    client = token_client(owner)
    url = f"/api/v1/customers/{company.pk}/contacts"
    created = client.post(
        url,
        {"name": "陈经理", "role": "采购", "mobile": "138 1234 5678", "is_primary": True},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["mobile"] == "138****5678" and body["is_primary"] is True
    assert body["customer_id"] == company.pk and body["version"] == 1
    assert Contact.objects.get(pk=body["id"]).mobile == "+8613812345678"
    listed = client.get(url).json()
    assert [c["mobile"] for c in listed] == ["138****5678"]
    patch = client.patch(
        f"/api/v1/contacts/{body['id']}", {"version": 1, "role": "采购总监"}, content_type=JSON
    )
    assert patch.status_code == 200 and patch.json()["role"] == "采购总监"
    assert patch.json()["version"] == 2 and patch.json()["mobile"] == "138****5678"
    stale = client.patch(
        f"/api/v1/contacts/{body['id']}", {"version": 1, "role": "财务"}, content_type=JSON
    )
    assert stale.status_code == 409 and error_of(stale)["code"] == "conflict"
    assert client.delete(f"/api/v1/contacts/{body['id']}?version=1").status_code == 409
    assert client.delete(f"/api/v1/contacts/{body['id']}?version=2").status_code == 204
    assert client.get(url).json() == []
    assert client.delete(f"/api/v1/contacts/{body['id']}?version=3").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "mobile": "000000"}, "mobile"),
        ({"name": "x", "mobile": "abc"}, "mobile"),
        ({"name": "x", "email": "nope"}, "email"),
        ({"name": "x", "is_primary": 1}, "is_primary"),
        ({"name": "x", "role": "r" * 101}, "role"),
        ({"name": "x", "owner_id": 3}, "owner_id"),
        ({"name": 7}, "name"),
    ],
)
def test_api_bad_input_is_422_naming_the_field(owner, company, payload, field):
    response = token_client(owner).post(
        f"/api/v1/customers/{company.pk}/contacts", payload, content_type=JSON
    )
    assert response.status_code == 422, response.content
    assert field in error_of(response)["fields"]
    assert not Contact.all_objects.exists()


def test_api_patch_refuses_null_and_bad_phone(owner, company):
    contact = add(owner, company, mobile="13812345678")
    client = token_client(owner)
    url = f"/api/v1/contacts/{contact.pk}"
    assert client.patch(url, {"version": 1, "name": None}, content_type=JSON).status_code == 422
    bad = client.patch(url, {"version": 1, "mobile": "000000"}, content_type=JSON)
    assert bad.status_code == 422 and "mobile" in error_of(bad)["fields"]
    assert client.patch(url, {"role": "x"}, content_type=JSON).status_code == 422
    contact.refresh_from_db()
    assert (contact.mobile, contact.version) == ("+8613812345678", 1)


def test_api_owner_teammate_outsider(owner, teammate, outsider, company):
    contact = add(owner, company, role="采购", mobile="13812345678")
    assert token_client(owner).get(f"/api/v1/customers/{company.pk}/contacts").status_code == 200
    for intruder in (teammate, outsider):
        client = token_client(intruder)
        assert client.get(f"/api/v1/customers/{company.pk}/contacts").status_code == 404
        created = client.post(
            f"/api/v1/customers/{company.pk}/contacts", {"name": "x"}, content_type=JSON
        )
        assert created.status_code == 404
        patched = client.patch(
            f"/api/v1/contacts/{contact.pk}", {"version": 1, "role": "x"}, content_type=JSON
        )
        assert patched.status_code == 404
        assert client.delete(f"/api/v1/contacts/{contact.pk}?version=1").status_code == 404
    contact.refresh_from_db()
    assert (contact.role, contact.version, contact.deleted_at) == ("采购", 1, None)
    assert Contact.all_objects.count() == 1
    assert not AuditEvent.objects.filter(
        action__in=["customers.contact.update", "customers.contact.delete"]
    ).exists()
    assert AuditEvent.objects.filter(action="customers.contact.create").count() == 1


def test_api_unknown_ids_are_404(owner):
    client = token_client(owner)
    assert client.get("/api/v1/customers/999999/contacts").status_code == 404
    assert (
        client.patch("/api/v1/contacts/999999", {"version": 1}, content_type=JSON).status_code
        == 404
    )


# --- Pages ------------------------------------------------------------------------------------


def test_card_on_the_file_masks_mobiles_and_escapes_text(owner, company):
    add(owner, company, "陈经理", role=HOSTILE, mobile="13812345678", is_primary=True)
    page = signed_in(owner).get(f"/customers/{company.pk}/").content.decode()
    assert 'id="contacts"' in page and "陈经理" in page
    assert "138****5678" in page and "13812345678" not in page
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert 'id="add-contact"' in page and "data-primary" in page


def test_card_for_a_reader_who_may_not_change(owner, company, admin_user):
    auditor_like = factories.user("reader", role_code="auditor", name="只读")
    add(owner, company, "陈经理", mobile="13812345678")
    page = signed_in(auditor_like).get(f"/customers/{company.pk}/").content.decode()
    assert "陈经理" in page and "138****5678" in page
    assert 'id="add-contact"' not in page and "data-edit-contact" not in page


def test_add_edit_delete_through_the_pages(owner, company):
    client = signed_in(owner)
    new = f"/customers/{company.pk}/contacts/new/"
    assert client.get(new).status_code == 200
    bad = client.post(new, {"name": "陈经理", "mobile": "000000"})
    assert bad.status_code == 400 and "mobile" in bad.context["form"].errors
    response = client.post(new, {"name": "陈经理", "mobile": "13812345678", "is_primary": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{company.pk}/#contacts"
    contact = Contact.objects.get()
    assert (contact.mobile, contact.is_primary) == ("+8613812345678", True)

    # The owner may reveal: the edit form shows the number, and the reveal is audited.
    edit = f"/customers/contacts/{contact.pk}/edit/"
    form = client.get(edit).context["form"]
    assert form["mobile"].value() == "+8613812345678" and form["version"].value() == 1
    assert AuditEvent.objects.filter(action="customers.contact.reveal").count() == 1
    data = {"name": "陈经理", "role": "采购总监", "mobile": "+8613812345678", "version": 1}
    assert client.post(edit, data).status_code == 302
    contact.refresh_from_db()
    assert (contact.role, contact.is_primary, contact.version) == ("采购总监", False, 2)
    stale = client.post(edit, {**data, "role": "财务"})
    assert stale.status_code == 409 and "conflict" in stale.context
    contact.refresh_from_db()
    assert contact.role == "采购总监"

    delete = f"/customers/contacts/{contact.pk}/delete/"
    assert client.get(delete).status_code == 405
    client.post(delete, {"version": "1"})  # stale: nothing happens
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert client.post(delete, {"version": "2"}).status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_edit_form_keeps_the_number_masked_for_who_may_not_reveal(owner, clerk, company):
    contact = add(owner, company, mobile="13812345678")
    client = signed_in(clerk)
    edit = f"/customers/contacts/{contact.pk}/edit/"
    response = client.get(edit)
    assert response.context["form"]["mobile"].value() == "138****5678"
    assert "13812345678" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="customers.contact.reveal").exists()
    # Sent back unchanged, the masked number keeps the stored one.
    data = {"name": "陈经理", "role": "财务", "mobile": "138****5678", "version": 1}
    assert client.post(edit, data).status_code == 302
    contact.refresh_from_db()
    assert (contact.mobile, contact.role) == ("+8613812345678", "财务")
    # A new number replaces it.
    client.post(edit, {**data, "mobile": "13900001111", "version": 2})
    contact.refresh_from_db()
    assert contact.mobile == "+8613900001111"


def test_pages_are_404_for_teammate_and_outsider(owner, teammate, outsider, company):
    contact = add(owner, company, role="采购")
    for intruder in (teammate, outsider):
        client = signed_in(intruder)
        assert client.get(f"/customers/{company.pk}/contacts/new/").status_code == 404
        assert (
            client.post(f"/customers/{company.pk}/contacts/new/", {"name": "x"}).status_code == 404
        )
        assert client.get(f"/customers/contacts/{contact.pk}/edit/").status_code == 404
        edit = {"name": "x", "version": 1}
        assert client.post(f"/customers/contacts/{contact.pk}/edit/", edit).status_code == 404
        delete = client.post(f"/customers/contacts/{contact.pk}/delete/", {"version": 1})
        assert delete.status_code == 404
    contact.refresh_from_db()
    assert (contact.name, contact.role, contact.version, contact.deleted_at) == (
        "陈经理",
        "采购",
        1,
        None,
    )
    assert Contact.all_objects.count() == 1

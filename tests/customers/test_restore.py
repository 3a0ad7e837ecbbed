"""Restoring deleted customers: the administrators' page and the API; the customer comes
back with everything tied to it; merged customers are not restorable here; after the purge
nothing is left to restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.core.models import AuditEvent
from kehu.core.services import purge_deleted, record_soft_delete
from kehu.customers import services
from kehu.customers.models import Contact, Customer, CustomerChange, Interaction
from kehu.needs.models import Need
from tests import factories
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db

DELETED = "/customers/deleted/"


def deleted_customer(owner, admin_user, name="张三"):
    c = factories.customer(owner, name, city="上海")
    services.interaction_record(actor=owner, customer=c, channel="visit", summary="拜访")
    Need.objects.create(
        customer=c, title="需要培训", domain="production", nature="material", source="interview"
    )
    Contact.objects.create(customer=c, name="李经理", is_primary=True)
    earlier = Contact.objects.create(customer=c, name="已删联系人")
    record_soft_delete(actor=admin_user, obj=earlier)  # deleted on its own, before
    c.refresh_from_db()
    record_soft_delete(actor=admin_user, obj=c, expected_version=c.version)
    return Customer.all_objects.get(pk=c.pk)


def restore_api(client, pk):
    return client.post(f"/api/v1/customers/{pk}/restore")


def test_the_page_lists_deleted_not_live_nor_merged(owner, admin_user):
    gone = deleted_customer(owner, admin_user, "<b>已删</b>")
    live = factories.customer(owner, "还在")
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    services.customers_merge(actor=admin_user, target=a, others=[b], reason="重复")
    response = signed_in(admin_user).get(DELETED)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'data-customer="{gone.pk}"' in body and "&lt;b&gt;已删&lt;/b&gt;" in body
    assert "<b>已删</b>" not in body
    assert f'data-customer="{live.pk}"' not in body and f'data-customer="{b.pk}"' not in body
    purge_on = (gone.deleted_at + timedelta(days=30)).astimezone(timezone.get_current_timezone())
    assert purge_on.strftime("%Y-%m-%d") in body
    # Search.
    body = signed_in(admin_user).get(DELETED, {"q": "已删"}).content.decode()
    assert f'data-customer="{gone.pk}"' in body
    body = signed_in(admin_user).get(DELETED, {"q": "甲乙丙"}).content.decode()
    assert f'data-customer="{gone.pk}"' not in body and 'id="deleted-empty"' in body


def test_the_page_is_in_the_administration_menu(admin_user, owner):
    assert f'href="{DELETED}"' in signed_in(admin_user).get("/").content.decode()
    assert f'href="{DELETED}"' not in signed_in(owner).get("/").content.decode()


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "auditor"])
def test_page_and_button_are_404_without_the_right(request, owner, admin_user, who):
    gone = deleted_customer(owner, admin_user)
    client = signed_in(request.getfixturevalue(who))
    assert client.get(DELETED).status_code == 404
    assert client.post(f"/customers/{gone.pk}/restore/").status_code == 404
    assert restore_api(token_client(request.getfixturevalue(who)), gone.pk).status_code == 404
    assert Customer.all_objects.get(pk=gone.pk).is_deleted


def test_restore_brings_everything_back(owner, admin_user):
    gone = deleted_customer(owner, admin_user)
    # While deleted, its file is 404 for its owner too.
    assert signed_in(owner).get(f"/customers/{gone.pk}/").status_code == 404
    response = signed_in(admin_user).post(f"/customers/{gone.pk}/restore/")
    assert response.status_code == 302 and response["Location"] == f"/customers/{gone.pk}/"
    c = Customer.objects.get(pk=gone.pk)
    assert c.owner == owner and c.city == "上海" and c.version == gone.version + 1
    assert Interaction.objects.filter(customer=c).count() == 1
    assert Need.objects.filter(customer=c).count() == 1
    assert list(Contact.objects.filter(customer=c).values_list("name", flat=True)) == ["李经理"]
    assert Contact.all_objects.get(name="已删联系人").is_deleted  # deleted before: stays so
    assert CustomerChange.objects.filter(customer=c, field="deleted_at").count() == 1
    assert AuditEvent.objects.filter(action="customers.customer.restore").count() == 1
    assert signed_in(owner).get(f"/customers/{c.pk}/").status_code == 200


def test_rows_deleted_together_with_the_customer_come_back(owner, admin_user):
    c = factories.customer(owner, "张三")
    contact = Contact.objects.create(customer=c, name="一起删的")
    now = timezone.now()
    Contact.all_objects.filter(pk=contact.pk).update(deleted_at=now)
    Customer.objects.filter(pk=c.pk).update(deleted_at=now)
    services.customer_restore(actor=admin_user, customer_id=c.pk)
    assert not Contact.all_objects.get(pk=contact.pk).is_deleted


def test_api_restore(owner, admin_user):
    gone = deleted_customer(owner, admin_user)
    response = restore_api(token_client(admin_user), gone.pk)
    assert response.status_code == 200 and response.json()["id"] == gone.pk
    assert not Customer.all_objects.get(pk=gone.pk).is_deleted
    # A live customer, or one that does not exist: nothing to restore.
    assert restore_api(token_client(admin_user), gone.pk).status_code == 404
    assert restore_api(token_client(admin_user), 999_999).status_code == 404


def test_a_merged_customer_is_not_restored_here(owner, admin_user):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    services.customers_merge(actor=admin_user, target=a, others=[b], reason="重复")
    response = restore_api(token_client(admin_user), b.pk)
    assert response.status_code == 409 and response.json()["error"]["code"] == "rule"
    page = signed_in(admin_user).post(f"/customers/{b.pk}/restore/")
    assert page.status_code == 302 and page["Location"] == DELETED
    assert Customer.all_objects.get(pk=b.pk).is_deleted


def test_after_the_purge_there_is_nothing_to_restore(owner, admin_user):
    gone = deleted_customer(owner, admin_user)
    Customer.all_objects.filter(pk=gone.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert purge_deleted(model=Customer) == 1
    assert restore_api(token_client(admin_user), gone.pk).status_code == 404
    assert not Interaction.objects.filter(customer_id=gone.pk).exists()


def test_the_restore_button_needs_post(owner, admin_user):
    gone = deleted_customer(owner, admin_user)
    assert signed_in(admin_user).get(f"/customers/{gone.pk}/restore/").status_code == 405

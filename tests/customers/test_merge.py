"""Merging duplicate customers: nothing is lost, old ids lead to the survivor (also through
chains), only those who may merge every record can, stale versions conflict, and
concurrent merges on PostgreSQL lose no rows."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.db.models import ForeignKey

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError
from kehu.customers import services
from kehu.customers.merging import STAYS_PUT, follower_models, survivor_of
from kehu.customers.models import Contact, Customer, CustomerChange, Interaction
from kehu.needs.models import Need
from tests import factories
from tests.conftest import is_postgres, signed_in, token_client

pytestmark = pytest.mark.django_db

MERGE_API = "/api/v1/customers/merge"


@pytest.fixture
def manager(team_a):
    """A manager of the sales department: may merge the department's customers."""
    return factories.user("manager", role_code="manager", team_obj=team_a, name="经理")


def need(customer, title="需要售后"):
    return Need.objects.create(
        customer=customer,
        title=title,
        domain="production",
        nature="material",
        source="interview",
    )


def filled(owner, name, **fields):
    """A customer with an interaction, a need, a contact and a changed field."""
    c = factories.customer(owner, name, **fields)
    services.interaction_record(actor=owner, customer=c, channel="call", summary=f"{name} 来电")
    need(c, f"{name} 的需求")
    Contact.objects.create(customer=c, name=f"{name} 的联系人", is_primary=True)
    c = services.customer_update(
        actor=owner, customer=c, expected_version=c.version, notes=f"{name} 备注"
    )
    return Customer.objects.get(pk=c.pk)


def snapshot(*customers):
    ids = [c.pk for c in customers]
    return {
        "interactions": set(
            Interaction.objects.filter(customer_id__in=ids).values_list("pk", flat=True)
        ),
        "needs": set(Need.all_objects.filter(customer_id__in=ids).values_list("pk", flat=True)),
        "contacts": set(
            Contact.all_objects.filter(customer_id__in=ids).values_list("pk", flat=True)
        ),
        "changes": set(
            CustomerChange.objects.filter(customer_id__in=ids).values_list("pk", flat=True)
        ),
    }


def owned_by(user, name):
    """A customer of ``user`` (who may not be allowed to create one themselves)."""
    c = factories.customer(None, name)
    Customer.objects.filter(pk=c.pk).update(
        owner=user, team=user.team_id, department=user.department_id, pooled_at=None
    )
    return Customer.objects.get(pk=c.pk)


def merge_api(client, body):
    return client.post(MERGE_API, json.dumps(body), content_type="application/json")


# --- The service ------------------------------------------------------------------------------


def test_merge_keeps_every_row_and_records_it(owner, manager):
    a = filled(owner, "张三", city="上海", tags=["VIP"])
    b = filled(owner, "张三丰", email="zs@example.com", mobile="13812345678", tags=["展会2026"])
    referred = factories.customer(owner, "王五", referrer=b)
    before = snapshot(a, b)

    survivor = services.customers_merge(actor=manager, target=a, others=[b], reason="同一人")

    assert survivor.pk == a.pk
    after = snapshot(a)
    for kind in ("interactions", "needs", "contacts", "changes"):
        assert before[kind] <= after[kind], kind
    assert Interaction.objects.filter(customer=a).count() == 2
    assert Need.objects.filter(customer=a).count() == 2
    assert Contact.objects.filter(customer=a).count() == 2
    assert Contact.objects.filter(customer=a, is_primary=True).count() == 1  # the survivor's
    a.refresh_from_db()
    # Empty fields filled from the other; the survivor's own values kept; notes combined.
    assert (a.name, a.city, a.email, a.mobile) == (
        "张三",
        "上海",
        "zs@example.com",
        "+8613812345678",
    )
    assert a.mobile_digits == "13812345678" and a.email_lower == "zs@example.com"
    assert a.notes == "张三 备注\n\n张三丰 备注"
    assert sorted(a.tags.values_list("name", flat=True)) == ["VIP", "展会2026"]
    referred.refresh_from_db()
    assert referred.referrer_id == a.pk
    assert CustomerChange.objects.filter(customer=referred, field="referrer").exists()
    b = Customer.all_objects.get(pk=b.pk)
    assert b.is_deleted and b.merged_into_id == a.pk
    assert CustomerChange.objects.filter(customer=b, field="merged_into").count() == 1
    history = dict(
        CustomerChange.objects.filter(customer=a, field__in=["email", "merged_from"]).values_list(
            "field", "new_value"
        )
    )
    assert history == {"email": "zs@example.com", "merged_from": f"#{b.pk} 张三丰"}
    event = AuditEvent.objects.get(action="customer.merge")
    assert event.object_id == str(a.pk) and event.row_count == 1
    assert event.changes["merged_ids"] == [None, [b.pk]]
    assert event.changes["reason"] == [None, "同一人"]
    assert a.version == survivor.version
    # The survivor's file shows the merge in its history.
    page = signed_in(owner).get(f"/customers/{a.pk}/")
    assert page.status_code == 200 and f"#{b.pk} 张三丰" in page.content.decode()


def test_the_user_chooses_values_per_field(owner, manager):
    a = factories.customer(owner, "张三", city="上海")
    b = factories.customer(owner, "张三（北京）", city="北京", notes="只留这个")
    services.customers_merge(
        actor=manager,
        target=a,
        others=[b],
        reason="重复",
        choices={"city": b.pk, "notes": b.pk},
    )
    a.refresh_from_db()
    assert (a.name, a.city, a.notes) == ("张三", "北京", "只留这个")


def test_several_at_once_and_a_referrer_among_them(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    c = factories.customer(owner, "丙", referrer=b)
    services.customers_merge(actor=manager, target=c, others=[a, b], reason="三合一")
    c.refresh_from_db()
    assert c.referrer_id is None  # it cannot be referred by itself
    assert set(Customer.all_objects.filter(merged_into=c).values_list("pk", flat=True)) == {
        a.pk,
        b.pk,
    }


def test_rules(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    with pytest.raises(Exception, match="reason"):
        services.customers_merge(actor=manager, target=a, others=[b], reason="  ")
    with pytest.raises(Exception, match="other_ids"):
        services.customers_merge(actor=manager, target=a, others=[a], reason="x")
    with pytest.raises(Exception, match="other_ids"):
        services.customers_merge(actor=manager, target=a, others=[], reason="x")
    with pytest.raises(Exception, match="owner"):
        services.customers_merge(
            actor=manager, target=a, others=[b], reason="x", choices={"owner": a.pk}
        )
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "auditor"])
def test_only_who_may_merge_every_record(request, owner, manager, who):
    a = filled(owner, "甲")
    b = filled(owner, "乙")
    actor = request.getfixturevalue(who)
    before = snapshot(a, b)
    with pytest.raises(AccessDenied):
        services.customers_merge(actor=actor, target=a, others=[b], reason="x")
    assert snapshot(a, b) == before and Customer.objects.count() == 2


def test_a_record_outside_the_scope_spoils_the_whole_merge(owner, outsider, manager):
    a = factories.customer(owner, "甲")
    foreign = owned_by(outsider, "乙")  # another department
    with pytest.raises(AccessDenied):
        services.customers_merge(actor=manager, target=a, others=[foreign], reason="x")
    assert (
        Customer.objects.count() == 2
        and not AuditEvent.objects.filter(action="customer.merge").exists()
    )


def test_a_stale_version_conflicts_and_nothing_changes(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    services.customer_update(actor=owner, customer=b, expected_version=b.version, city="杭州")
    stale = Customer.objects.get(pk=b.pk)
    stale.version -= 1
    with pytest.raises(ConflictError):
        services.customers_merge(actor=manager, target=a, others=[stale], reason="x")
    assert Customer.objects.count() == 2
    with pytest.raises(ConflictError):
        services.customers_merge(
            actor=manager, target=a, others=[b], reason="x", versions={a.pk: 1, b.pk: 1}
        )
    assert Customer.objects.count() == 2


def test_every_foreign_key_to_customer_follows_a_merge_or_is_known_to_stay(db):
    """A new app with rows tied to customers must register them (follows_customer)."""
    from django.apps import apps

    followed = {(m._meta.label_lower, f) for m, f in follower_models()}
    missing = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, ForeignKey) and field.related_model is Customer:
                key = (model._meta.label_lower, field.name)
                if key not in followed and key not in STAYS_PUT:
                    missing.append(key)
    assert missing == [], (
        "Register these with kehu.customers.merging.follows_customer (or add them to "
        f"STAYS_PUT): {missing}"
    )
    assert ("needs.need", "customer") in followed


# --- Old ids lead to the survivor --------------------------------------------------------------


def test_old_ids_redirect_also_through_chains(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    c = factories.customer(owner, "丙")
    services.customers_merge(actor=manager, target=b, others=[a], reason="一")
    b.refresh_from_db()
    services.customers_merge(actor=manager, target=c, others=[b], reason="二")  # a→b→c
    assert survivor_of(a.pk).pk == c.pk and survivor_of(b.pk).pk == c.pk
    assert survivor_of(c.pk) is None

    page = signed_in(owner).get(f"/customers/{a.pk}/")
    assert page.status_code == 302 and page["Location"] == f"/customers/{c.pk}/"
    response = token_client(owner).get(f"/api/v1/customers/{a.pk}")
    assert response.status_code == 308
    assert response["Location"] == f"/api/v1/customers/{c.pk}"
    assert response.json() == {"merged_into": c.pk}
    followed = token_client(owner).get(response["Location"])
    assert followed.status_code == 200 and followed.json()["id"] == c.pk
    # Only reading follows: a write to an old id is a 404.
    patch = token_client(owner).patch(
        f"/api/v1/customers/{a.pk}", json.dumps({"version": 1}), content_type="application/json"
    )
    assert patch.status_code == 404


def test_old_ids_are_404_for_who_may_not_see_the_survivor(owner, outsider, teammate, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    services.customers_merge(actor=manager, target=a, others=[b], reason="x")
    for user in (outsider, teammate):
        assert signed_in(user).get(f"/customers/{b.pk}/").status_code == 404
        assert token_client(user).get(f"/api/v1/customers/{b.pk}").status_code == 404
    assert signed_in(owner).get("/customers/999999/").status_code == 404
    assert token_client(owner).get("/api/v1/customers/999999").status_code == 404


# --- The API -----------------------------------------------------------------------------------


def test_api_merge(owner, manager):
    a = filled(owner, "甲")
    b = filled(owner, "乙", email="yi@example.com")
    response = merge_api(
        token_client(manager),
        {
            "target_id": a.pk,
            "other_ids": [b.pk],
            "reason": "重复",
            "versions": [{"id": a.pk, "version": a.version}, {"id": b.pk, "version": b.version}],
            "choices": {"name": b.pk},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["name"], body["email"]) == (a.pk, "乙", "yi@example.com")
    assert body["version"] == a.version + 1
    assert Customer.all_objects.get(pk=b.pk).merged_into_id == a.pk


def test_api_merge_stale_version_is_409(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    response = merge_api(
        token_client(manager),
        {
            "target_id": a.pk,
            "other_ids": [b.pk],
            "reason": "x",
            "versions": [{"id": b.pk, "version": 7}],
        },
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert Customer.objects.count() == 2


def test_api_merge_of_an_already_merged_record_is_409(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    c = factories.customer(owner, "丙")
    services.customers_merge(actor=manager, target=a, others=[b], reason="x")
    response = merge_api(
        token_client(manager), {"target_id": c.pk, "other_ids": [b.pk], "reason": "x"}
    )
    assert response.status_code == 409


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider"])
def test_api_merge_access(request, owner, who):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    actor = request.getfixturevalue(who)
    response = merge_api(
        token_client(actor), {"target_id": a.pk, "other_ids": [b.pk], "reason": "x"}
    )
    assert response.status_code == 404
    assert Customer.objects.count() == 2


def test_api_merge_bad_input(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    client = token_client(manager)
    bad = [
        {"target_id": a.pk, "other_ids": [], "reason": "x"},
        {"target_id": a.pk, "other_ids": [a.pk], "reason": "x"},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": ""},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": "x", "choices": {"owner": a.pk}},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": "x", "choices": {"name": 12345}},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": "x", "versions": {str(a.pk): 1}},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": "x", "versions": [{"id": a.pk}]},
        {"target_id": a.pk, "other_ids": [0], "reason": "x"},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": "\x00"},
        {"target_id": str(a.pk), "other_ids": [b.pk], "reason": "x"},
        {"target_id": a.pk, "other_ids": [b.pk], "reason": "x", "extra": 1},
    ]
    for body in bad:
        assert merge_api(client, body).status_code == 422, body
    assert Customer.objects.count() == 2


# --- The pages ---------------------------------------------------------------------------------


def test_list_offers_selection_only_to_who_may_merge(owner, manager):
    factories.customer(owner, "甲")
    assert 'id="merge-selected"' in signed_in(manager).get("/customers/").content.decode()
    assert 'id="merge-selected"' not in signed_in(owner).get("/customers/").content.decode()


def test_merge_page_side_by_side_then_merge(owner, manager):
    a = filled(owner, "<b>甲</b>", mobile="13812345678")
    b = filled(owner, "乙", city="杭州")
    client = signed_in(manager)
    page = client.get("/customers/merge/", {"ids": [a.pk, b.pk]})
    body = page.content.decode()
    assert page.status_code == 200
    assert f'data-target="{a.pk}"' in body and f'data-target="{b.pk}"' in body
    assert "&lt;b&gt;甲&lt;/b&gt;" in body and "<b>甲</b>" not in body
    assert "138****5678" in body and "13812345678" not in body  # masked
    response = client.post(
        "/customers/merge/",
        {
            "ids": [a.pk, b.pk],
            f"version_{a.pk}": a.version,
            f"version_{b.pk}": b.version,
            "target": b.pk,
            "field_name": str(b.pk),
            "reason": "同一家",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/customers/{b.pk}/"
    b.refresh_from_db()
    assert (b.name, b.mobile, b.city) == ("乙", "+8613812345678", "杭州")
    assert Customer.all_objects.get(pk=a.pk).merged_into_id == b.pk


def test_merge_page_needs_a_reason_and_a_fresh_version(owner, manager):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    client = signed_in(manager)
    data = {"ids": [a.pk, b.pk], f"version_{a.pk}": 1, f"version_{b.pk}": 1, "target": a.pk}
    assert client.post("/customers/merge/", {**data, "reason": ""}).status_code == 400
    services.customer_update(actor=owner, customer=b, expected_version=1, city="杭州")
    response = client.post("/customers/merge/", {**data, "reason": "x"})
    assert response.status_code == 409 and 'id="conflict-message"' in response.content.decode()
    assert Customer.objects.count() == 2


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider"])
def test_merge_page_access(request, owner, who):
    a = factories.customer(owner, "甲")
    b = factories.customer(owner, "乙")
    client = signed_in(request.getfixturevalue(who))
    assert client.get("/customers/merge/", {"ids": [a.pk, b.pk]}).status_code == 404
    response = client.post(
        "/customers/merge/",
        {"ids": [a.pk, b.pk], "target": a.pk, "reason": "x", "version_1": 1},
    )
    assert response.status_code == 404 and Customer.objects.count() == 2


def test_merge_page_with_an_invisible_record_is_404(owner, outsider, manager):
    a = factories.customer(owner, "甲")
    foreign = owned_by(outsider, "乙")
    client = signed_in(manager)
    assert client.get("/customers/merge/", {"ids": [a.pk, foreign.pk]}).status_code == 404
    assert client.get("/customers/merge/", {"ids": ["x"]}).status_code == 404
    # Fewer than two: back to the list with a message.
    assert client.get("/customers/merge/", {"ids": [a.pk]}).status_code == 302


# --- Concurrency (PostgreSQL, real threads) -----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_merges_lose_no_rows():
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    from tests.conftest import seed_reference_data

    seed_reference_data()
    team = factories.team("合并组")
    boss = factories.user("boss", role_code="manager", team_obj=team)
    seller = factories.user("seller", role_code="sales", team_obj=team)
    customers = [filled(seller, f"客户{i}") for i in range(4)]
    before = snapshot(*customers)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def merge(i: int) -> None:
        target, other = customers[i], customers[(i + 1) % 4]
        try:
            barrier.wait(5)
            services.customers_merge(actor=boss, target=target, others=[other], reason="并发")
            outcomes.append("merged")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=merge, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == 4 and "merged" in outcomes
    live = list(Customer.objects.filter(pk__in=[c.pk for c in customers]))
    assert len(live) == 4 - outcomes.count("merged")
    # Every row still exists and belongs to a live customer.
    assert snapshot(*live)["interactions"] == before["interactions"]
    assert snapshot(*live)["needs"] == before["needs"]
    assert snapshot(*live)["contacts"] == before["contacts"]
    assert before["changes"] <= snapshot(*live)["changes"]
    for c in customers:
        if c.pk not in {x.pk for x in live}:
            assert survivor_of(c.pk).pk in {x.pk for x in live}
    assert AuditEvent.objects.filter(action="customer.merge").count() == outcomes.count("merged")


def test_purge_keeps_merged_records_so_old_ids_keep_redirecting(owner, manager):
    from datetime import timedelta

    from django.utils import timezone

    from kehu.customers.tasks import purge_deleted_customers

    survivor = factories.customer(owner, "保留")
    old = factories.customer(owner, "合并走")
    services.customers_merge(actor=manager, target=survivor, others=[old], reason="重复")
    Customer.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=90))
    purge_deleted_customers.call()
    assert Customer.all_objects.filter(pk=old.pk, merged_into=survivor).exists()
    response = signed_in(owner).get(f"/customers/{old.pk}/")
    assert response.status_code == 302 and response["Location"].endswith(
        f"/customers/{survivor.pk}/"
    )

"""The tag vocabulary: rename, merge and delete tags (kehu.customers.tags, its pages)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError, RuleViolation
from kehu.core.services import record_soft_delete
from kehu.customers import services, tags
from kehu.customers.models import Customer, CustomerChange, Tag
from kehu.customers.selectors import CustomerFilters, customer_list
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def found(actor, q: str) -> set[str]:
    return {c.name for c in customer_list(actor=actor, filters=CustomerFilters(q=q))}


def tag_names(customer: Customer) -> list[str]:
    return sorted(customer.tags.values_list("name", flat=True))


@pytest.fixture
def manager(team_a):
    return factories.user("manager1", role_code="manager", team_obj=team_a, name="经理")


def test_rename_changes_every_carrier_its_search_and_history(admin_user, owner):
    a = factories.customer(owner, "张三", tags=["展会2025", "VIP"])
    b = factories.customer(owner, "李四", tags=["展会2025"])
    record_soft_delete(actor=admin_user, obj=b, expected_version=b.version)  # deleted too
    factories.customer(owner, "王五", tags=["VIP"])
    tag = Tag.objects.get(name="展会2025")
    before = Customer.objects.get(pk=a.pk)
    tags.tag_rename(actor=admin_user, tag=tag, name="  广交会2026 ")
    a.refresh_from_db()
    assert tag_names(a) == ["VIP", "广交会2026"] and Tag.objects.get(pk=tag.pk).name == "广交会2026"
    assert found(admin_user, "广交会") == {"张三"} and found(admin_user, "展会2025") == set()
    assert found(admin_user, "交会") == {"张三"}  # two Han characters: the n-gram words too
    assert a.version == before.version + 1 and a.updated_at == before.updated_at
    change = CustomerChange.objects.get(customer=a, field="tags")
    assert (change.old_value, change.new_value) == ("VIP, 展会2025", "VIP, 广交会2026")
    deleted = Customer.all_objects.get(pk=b.pk)
    assert "广交会2026" in deleted.search_text and "展会2025" not in deleted.search_text
    event = AuditEvent.objects.get(action="tag.rename")
    assert event.row_count == 2 and event.changes == {"name": ["展会2025", "广交会2026"]}


def test_a_form_opened_before_the_rename_conflicts(admin_user, owner):
    c = factories.customer(owner, "张三", tags=["vip"])
    stale = c.version
    tags.tag_rename(actor=admin_user, tag=Tag.objects.get(name="vip"), name="VIP")  # case only
    with pytest.raises(ConflictError):
        services.customer_update(
            actor=owner,
            customer=Customer.objects.get(pk=c.pk),
            expected_version=stale,
            tags=["vip"],
        )
    assert tag_names(Customer.objects.get(pk=c.pk)) == ["VIP"]


def test_rename_refuses_a_taken_name_and_bad_names_changing_nothing(admin_user, owner):
    c = factories.customer(owner, "张三", tags=["VIP", "Key account"])
    tag = Tag.objects.get(name="Key account")
    with pytest.raises(RuleViolation) as taken:
        tags.tag_rename(actor=admin_user, tag=tag, name="vip")
    assert taken.value.code == "duplicate" and "vip" in str(taken.value.message_dict["name"])
    for bad in ("", "   ", "\x00\x1f", "长" * 51):
        with pytest.raises(ValidationError) as error:
            tags.tag_rename(actor=admin_user, tag=tag, name=bad)
        assert "name" in error.value.message_dict
    assert tag_names(Customer.objects.get(pk=c.pk)) == ["Key account", "VIP"]
    assert not AuditEvent.objects.filter(action__startswith="tag.").exists()
    tags.tag_rename(actor=admin_user, tag=tag, name="<b>=1+1</b>\x07")  # kept as text
    assert Tag.objects.get(pk=tag.pk).name == "<b>=1+1</b>"


def test_merge_moves_carriers_once_and_deletes_the_sources(admin_user, owner):
    both = factories.customer(owner, "张三", tags=["VIP", "vip客户"])
    only = factories.customer(owner, "李四", tags=["vip客户"])
    other = factories.customer(owner, "王五", tags=["团购"])
    source, target = Tag.objects.get(name="vip客户"), Tag.objects.get(name="VIP")
    changed = tags.tag_merge(actor=admin_user, sources=[source], target=target)
    assert changed == 2 and not Tag.objects.filter(pk=source.pk).exists()
    assert [tag_names(c) for c in (both, only, other)] == [["VIP"], ["VIP"], ["团购"]]
    assert found(admin_user, "vip客户") == set() and found(admin_user, "vip") == {"张三", "李四"}
    assert AuditEvent.objects.get(action="tag.merge").row_count == 2
    with pytest.raises(ValidationError):
        tags.tag_merge(actor=admin_user, sources=[target], target=target)


def test_delete_takes_the_tag_off_and_keeps_the_customers(admin_user, owner):
    c = factories.customer(owner, "张三", tags=["投诉过", "VIP"])
    tag = Tag.objects.get(name="投诉过")
    assert found(admin_user, "投诉") == {"张三"}
    assert tags.tag_delete(actor=admin_user, tag=tag) == 1
    assert (
        tag_names(Customer.objects.get(pk=c.pk)) == ["VIP"] and found(admin_user, "投诉") == set()
    )
    assert AuditEvent.objects.get(action="tag.delete").row_count == 1


def test_counts_stay_within_the_scope(admin_user, manager, owner, team_b):
    far = factories.user("far", role_code="sales", team_obj=team_b)  # another department
    factories.customer(owner, "张三", tags=["VIP"])
    factories.customer(far, "王五", tags=["VIP"])
    counts = {t.name: t.customer_count for t in tags.tag_list(actor=admin_user)}
    assert counts == {"VIP": 2}
    assert {t.name: t.customer_count for t in tags.tag_list(actor=manager)} == {"VIP": 1}


def test_without_the_permission_pages_are_404_and_nothing_changes(owner, outsider, manager):
    factories.customer(owner, "张三", tags=["VIP"])
    tag = Tag.objects.get(name="VIP")
    for user in (owner, outsider):
        with pytest.raises(AccessDenied):
            tags.tag_rename(actor=user, tag=tag, name="x")
        client = signed_in(user)
        assert client.get("/customers/tags/").status_code == 404
        assert client.get(f"/customers/tags/{tag.pk}/").status_code == 404
        for action, data in (("rename", {"name": "x"}), ("delete", {}), ("merge", {})):
            assert client.post(f"/customers/tags/{tag.pk}/{action}/", data).status_code == 404
    assert Tag.objects.get(pk=tag.pk).name == "VIP"
    assert signed_in(manager).get("/customers/tags/").status_code == 200


def test_pages_rename_merge_delete(admin_user, owner):
    factories.customer(owner, "张三", tags=["展会2025", "<script>alert(1)</script>"])
    factories.customer(owner, "李四", tags=["展会2026"])
    client = signed_in(admin_user)
    listing = client.get("/customers/tags/")
    html = listing.content.decode()
    assert listing.status_code == 200 and "展会2025" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "展会2026" not in client.get("/customers/tags/?q=2025").content.decode()
    tag = Tag.objects.get(name="展会2025")
    detail = client.get(f"/customers/tags/{tag.pk}/")
    assert detail.status_code == 200 and 'id="tag-count"' in detail.content.decode()
    bad = client.post(f"/customers/tags/{tag.pk}/rename/", {"name": "展会2026"})
    assert bad.status_code == 400 and 'data-error-for="name"' in bad.content.decode()
    assert client.post(f"/customers/tags/{tag.pk}/rename/", {"name": ""}).status_code == 400
    ok = client.post(f"/customers/tags/{tag.pk}/rename/", {"name": "广交会"})
    assert ok.status_code == 302 and Tag.objects.get(pk=tag.pk).name == "广交会"
    target = Tag.objects.get(name="展会2026")
    merged = client.post(f"/customers/tags/{tag.pk}/merge/", {"target": target.pk})
    assert merged.status_code == 302 and merged.url == f"/customers/tags/{target.pk}/"
    assert found(admin_user, "展会2026") == {"张三", "李四"}
    assert client.post(f"/customers/tags/{tag.pk}/merge/", {"target": target.pk}).status_code == 404
    assert client.post(f"/customers/tags/{target.pk}/merge/", {"target": 999999}).status_code == 400
    assert client.get(f"/customers/tags/{target.pk}/delete/").status_code == 405
    assert client.post(f"/customers/tags/{target.pk}/delete/").status_code == 302
    assert not Tag.objects.filter(name="展会2026").exists()


def test_many_carriers_go_in_batches(admin_user, owner, monkeypatch):
    monkeypatch.setattr(tags, "BATCH", 3)
    for i in range(8):
        factories.customer(owner, f"客户{i}", tags=["批量"])
    tag = Tag.objects.get(name="批量")
    tags.tag_rename(actor=admin_user, tag=tag, name="分批")
    assert found(admin_user, "分批") == {f"客户{i}" for i in range(8)}
    assert CustomerChange.objects.filter(field="tags", new_value="分批").count() == 8


def test_api_list_rename_merge_delete_and_access(admin_user, owner, outsider):
    from tests.conftest import token_client

    factories.customer(owner, "张三", tags=["VIP", "vip客户"])
    factories.customer(owner, "李四", tags=["vip客户"])
    vip, other = Tag.objects.get(name="VIP"), Tag.objects.get(name="vip客户")
    for user in (owner, outsider):  # no customers.tags: 404, nothing changes
        client = token_client(user)
        assert client.get("/api/v1/tags").status_code == 404
        assert (
            client.post(
                f"/api/v1/tags/{vip.pk}/rename", {"name": "x"}, content_type="application/json"
            ).status_code
            == 404
        )
        assert client.delete(f"/api/v1/tags/{vip.pk}").status_code == 404
    assert Tag.objects.count() == 2
    api = token_client(admin_user)
    listed = api.get("/api/v1/tags").json()
    assert [(t["name"], t["customer_count"]) for t in listed] == [("VIP", 1), ("vip客户", 2)]
    taken = api.post(
        f"/api/v1/tags/{other.pk}/rename", {"name": "vip"}, content_type="application/json"
    )
    assert taken.status_code == 409
    blank = api.post(
        f"/api/v1/tags/{other.pk}/rename", {"name": "  "}, content_type="application/json"
    )
    assert blank.status_code == 422
    renamed = api.post(
        f"/api/v1/tags/{other.pk}/rename", {"name": "重点VIP"}, content_type="application/json"
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "重点VIP"
    bad = api.post(f"/api/v1/tags/{other.pk}/merge", {"into": 0}, content_type="application/json")
    assert bad.status_code == 422
    merged = api.post(
        f"/api/v1/tags/{other.pk}/merge", {"into": vip.pk}, content_type="application/json"
    )
    assert merged.status_code == 200 and merged.json() == {"customers_changed": 2}
    assert api.get("/api/v1/tags").json() == [{"id": vip.pk, "name": "VIP", "customer_count": 2}]
    assert api.delete(f"/api/v1/tags/{vip.pk}").json() == {"customers_changed": 2}
    assert api.delete(f"/api/v1/tags/{vip.pk}").status_code == 404

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError, RuleViolation
from kehu.customers import selectors, services
from kehu.customers.models import Customer, CustomerChange
from kehu.customers.selectors import CustomerFilters
from tests import factories
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db


def names(actor, q="", **filters) -> set[str]:
    return set(
        selectors.customer_list(actor=actor, filters=CustomerFilters(q=q, **filters)).values_list(
            "name", flat=True
        )
    )


def test_create_normalises_and_keeps_history(owner):
    c = factories.customer(
        owner,
        "张三",
        mobile="138 1234 5678",
        email="Zhang@Example.COM",
        company="上海明珠贸易有限公司",
        credit_code="91310000MA1FL1234x",
        tags=["VIP", "vip", "展会2026"],
    )
    assert c.mobile == "+8613812345678"
    assert c.email == "zhang@example.com"
    assert c.credit_code == "91310000MA1FL1234X"
    assert c.owner == owner and c.team == owner.team and c.department == owner.department
    assert sorted(c.tags.values_list("name", flat=True)) == ["VIP", "展会2026"]
    assert c.name_pinyin == "zhangsan" and c.name_initials == "zs"
    assert CustomerChange.objects.filter(customer=c, field="mobile").exists()
    assert AuditEvent.objects.filter(action="customer.create", object_id=str(c.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"email": "not-an-email"}, "email"),
        ({"credit_code": "123"}, "credit_code"),
        ({"name": ""}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"stage": "royalty"}, "stage"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(owner, fields, bad):
    data = {"name": "王五", **fields}
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=owner, **data)
    assert bad in exc.value.message_dict
    assert Customer.objects.count() == 0


def test_control_characters_are_dropped(owner):
    c = factories.customer(owner, "李\x00娜\x1b", notes="line one\nline two\x07")
    assert c.name == "李娜" and c.notes == "line one\nline two"


def test_search_by_name_pinyin_initials_phone_email_tag(owner):
    factories.customer(owner, "张三", mobile="13812345678", tags=["VIP"])
    factories.customer(owner, "李娜", email="lina@example.com", company="深圳华强电子")
    factories.customer(owner, "Alice Wong", wechat="alice_hk")
    assert names(owner, "张三") == {"张三"}
    assert names(owner, "zhangsan") == {"张三"}
    assert names(owner, "ZS") == {"张三"}
    assert names(owner, "lina") == {"李娜"}
    assert names(owner, "5678") == {"张三"}
    assert names(owner, "138-1234") == {"张三"}
    assert names(owner, "lina@example") == {"李娜"}
    assert names(owner, "vip") == {"张三"}
    assert names(owner, "华强") == {"李娜"}
    assert names(owner, "hq") == {"李娜"}  # company initials
    assert names(owner, "alice_hk") == {"Alice Wong"}
    assert names(owner, "wong") == {"Alice Wong"}
    assert names(owner, "nobody") == set()


def test_scope_owner_teammate_manager_outsider(owner, teammate, outsider):
    factories.customer(owner, "张三")
    manager = factories.user("mgr", role_code="manager", team_obj=owner.team)
    assert names(owner) == {"张三"}
    assert names(teammate) == set()  # sales: own customers only
    assert names(manager) == {"张三"}  # manager: the department
    assert names(outsider) == set()
    c = Customer.objects.get()
    with pytest.raises(Customer.DoesNotExist):
        selectors.customer_get(actor=outsider, pk=c.pk)


def test_update_conflict_and_history(owner, teammate):
    c = factories.customer(owner, "张三", city="上海")
    first, second = Customer.objects.get(pk=c.pk), Customer.objects.get(pk=c.pk)
    services.customer_update(
        actor=owner, customer=first, expected_version=1, city="杭州", tags=["老客户"]
    )
    with pytest.raises(ConflictError):
        services.customer_update(actor=owner, customer=second, expected_version=1, city="北京")
    c.refresh_from_db()
    assert c.city == "杭州" and c.version == 2
    change = CustomerChange.objects.get(customer=c, field="city", old_value="上海")
    assert (change.old_value, change.new_value, change.actor) == ("上海", "杭州", owner)
    assert CustomerChange.objects.filter(customer=c, field="tags", new_value="老客户").exists()
    assert names(owner, "hangzhou") == set()  # city is matched as typed, not by pinyin
    assert names(owner, "杭州") == {"张三"}
    with pytest.raises(AccessDenied):
        services.customer_update(actor=teammate, customer=c, expected_version=2, city="x")
    c.refresh_from_db()
    assert c.city == "杭州"


def test_pool_claim_release_and_limit(owner, teammate, settings):
    c = factories.customer(None, "公海客户")
    assert c.owner is None and c.pooled_at is not None
    assert names(owner) == set()
    assert set(selectors.pool_list(actor=owner).values_list("name", flat=True)) == {"公海客户"}
    services.customer_claim(actor=owner, customer_id=c.pk)
    with pytest.raises(RuleViolation):
        services.customer_claim(actor=teammate, customer_id=c.pk)
    c.refresh_from_db()
    assert c.owner == owner and c.team == owner.team
    with pytest.raises(ValidationError):
        services.customer_release(actor=owner, customer=c, reason="")
    services.customer_release(actor=owner, customer=c, reason="客户暂无需求")
    c.refresh_from_db()
    assert c.owner is None
    settings.KEHU_POOL_CLAIM_LIMIT = 0
    with pytest.raises(RuleViolation):
        services.customer_claim(actor=teammate, customer_id=c.pk)


def test_transfer_all_customers_of_a_leaver(owner, teammate, admin_user):
    for i in range(5):
        factories.customer(owner, f"客户{i}")
    with pytest.raises(AccessDenied):
        services.customer_transfer(
            actor=teammate, customers=Customer.objects.all(), to_user=teammate, reason="x"
        )
    moved = services.customer_transfer(
        actor=admin_user,
        customers=Customer.objects.filter(owner=owner),
        to_user=teammate,
        reason="张三离职",
    )
    assert moved == 5
    assert Customer.objects.filter(owner=teammate).count() == 5
    event = AuditEvent.objects.get(action="customer.transfer")
    assert event.row_count == 5 and event.changes["reason"] == [None, "张三离职"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_exactly_one_wins():
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    from tests.conftest import seed_reference_data

    seed_reference_data()
    team = factories.team("抢客组")
    people = [factories.user(f"claimer{i}", role_code="sales", team_obj=team) for i in range(6)]
    c = factories.customer(None, "抢手客户")
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def claim(person):
        try:
            barrier.wait(5)
            services.customer_claim(actor=person, customer_id=c.pk)
            outcomes.append("won")
        except RuleViolation:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(outcomes) == ["lost"] * 5 + ["won"]
    c.refresh_from_db()
    assert c.owner in people
    assert AuditEvent.objects.filter(action="customer.claim").count() == 1


def test_release_clears_team_and_only_the_owner_or_a_manager_may_release(owner, teammate):
    agent = factories.user("agent", role_code="service_agent", team_obj=owner.team)
    c = factories.customer(owner, "张三")
    with pytest.raises(AccessDenied):
        services.customer_release(actor=agent, customer=c, reason="不是我的")
    services.customer_release(actor=owner, customer=c, reason="暂无需求")
    c.refresh_from_db()
    assert (c.owner_id, c.team_id, c.department_id) == (None, None, None)
    assert names(agent) == set()
    with pytest.raises(Customer.DoesNotExist):
        services.customer_claim(actor=owner, customer_id=999_999)


def test_idle_customers_return_to_the_pool_with_a_warning_first(owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.KEHU_POOL_RETURN_DAYS, settings.KEHU_POOL_WARNING_DAYS = 30, 5
    now = timezone.now()
    fresh = factories.customer(owner, "新客户")
    soon = factories.customer(owner, "快到期")
    idle = factories.customer(owner, "久未跟进")
    Customer.objects.filter(pk=soon.pk).update(
        assigned_at=now - timedelta(days=27), last_contact_at=None
    )
    Customer.objects.filter(pk=idle.pk).update(
        assigned_at=now - timedelta(days=90), last_contact_at=now - timedelta(days=31)
    )
    assert set(selectors.returning_soon(actor=owner).values_list("name", flat=True)) == {
        "快到期",
        "久未跟进",
    }
    assert services.customers_return_idle(now=now) == 1
    idle.refresh_from_db()
    assert idle.owner is None and idle.team is None
    assert Customer.objects.get(pk=fresh.pk).owner == owner
    event = AuditEvent.objects.get(action="customer.release", object_id=str(idle.pk))
    assert event.actor_label == "system"
    # A claim restarts the clock even when the last contact is old.
    services.customer_claim(actor=owner, customer_id=idle.pk)
    assert services.customers_return_idle(now=now) == 0


def test_deleted_customers_are_purged_after_the_grace_period(owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    from kehu.core.services import record_soft_delete
    from kehu.customers.tasks import purge_deleted_customers

    c = factories.customer(owner, "将删除")
    record_soft_delete(actor=owner, obj=c)
    assert purge_deleted_customers.call() == 0
    Customer.all_objects.filter(pk=c.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert purge_deleted_customers.call() == 1
    assert not Customer.all_objects.filter(pk=c.pk).exists()


def test_contacts_deleted_on_their_own_are_purged_too(owner):
    from datetime import timedelta

    from django.utils import timezone

    from kehu.customers.models import Contact
    from kehu.customers.tasks import purge_deleted_customers

    c = factories.customer(owner, "留下")
    kept = Contact.objects.create(customer=c, name="在职")
    gone = Contact.objects.create(customer=c, name="离职")
    Contact.all_objects.filter(pk=gone.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert purge_deleted_customers.call() == 1
    assert list(Contact.all_objects.filter(customer=c)) == [kept]


def test_sqlite_statistics_job_runs_analyze_only_on_sqlite():
    from django.db import connection

    from kehu.core.tasks import refresh_sqlite_statistics

    assert refresh_sqlite_statistics.call() is (connection.vendor == "sqlite")

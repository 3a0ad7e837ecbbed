"""Needs (需求) services: classification checked, versioned changes, status moves, soft
delete, audit — and nothing for anyone who may not change the customer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError
from kehu.needs import services
from kehu.needs.models import Need
from tests import factories

pytestmark = pytest.mark.django_db

BASIC = {
    "title": "希望48小时内到货",
    "domain": "production",
    "nature": "material",
    "source": "interview",
}


def record(actor, customer, **fields):
    return services.need_create(actor=actor, customer=customer, **{**BASIC, **fields})


def test_create_with_defaults_and_audit(owner):
    customer = factories.customer(owner, "上海明珠贸易有限公司")
    need = record(owner, customer, factor="delivery_speed", description="  每周两批  ")
    assert (need.priority, need.status, need.author, need.version) == ("medium", "open", owner, 1)
    assert need.description == "每周两批" and need.factor == "delivery_speed"
    event = AuditEvent.objects.get(action="needs.need.create")
    assert event.object_id == str(need.pk) and event.actor == owner
    assert event.changes["customer"] == [None, customer.pk]
    assert event.changes["domain"] == [None, "production"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "\x00\x1b"}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"description": "长" * 10_001}, "description"),
        ({"domain": "leisure"}, "domain"),
        ({"nature": ""}, "nature"),
        ({"factor": "price"}, "factor"),
        ({"source": "rumour"}, "source"),
        ({"priority": "urgent"}, "priority"),
        ({"status": "done"}, "status"),
        ({"title": 5}, "title"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(owner, fields, field):
    customer = factories.customer(owner, "张三")
    with pytest.raises(ValidationError) as caught:
        record(owner, customer, **fields)
    assert field in caught.value.message_dict
    assert not Need.all_objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="needs.").exists()


def test_hostile_text_is_kept_as_text_and_control_characters_removed(owner):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer, title='=HYPERLINK("x")\x07', description="<b>x</b>\n第二行")
    assert need.title == '=HYPERLINK("x")' and need.description == "<b>x</b>\n第二行"


def test_update_conflict_and_status_change(owner):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    services.need_update(actor=owner, need=need, expected_version=1, priority="high")
    assert (need.priority, need.version) == ("high", 2)
    with pytest.raises(ConflictError):
        services.need_update(actor=owner, need=need, expected_version=1, priority="low")
    need.refresh_from_db()
    assert need.priority == "high"
    services.need_set_status(actor=owner, need=need, status="in_progress", expected_version=2)
    need.refresh_from_db()
    assert (need.status, need.version) == ("in_progress", 3)
    status_event = AuditEvent.objects.get(action="needs.need.status")
    assert status_event.changes == {"status": ["open", "in_progress"]}
    with pytest.raises(ValidationError):
        services.need_set_status(actor=owner, need=need, status="finished", expected_version=3)
    # No change: no new version, no event.
    services.need_update(actor=owner, need=need, expected_version=3, status="in_progress")
    need.refresh_from_db()
    assert need.version == 3
    assert (
        AuditEvent.objects.filter(action__in=["needs.need.update", "needs.need.status"]).count()
        == 2
    )


def test_delete_is_soft_versioned_and_audited(owner):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    with pytest.raises(ConflictError):
        services.need_delete(actor=owner, need=need, expected_version=5)
    services.need_delete(actor=owner, need=need, expected_version=1)
    assert not Need.objects.exists()
    assert Need.all_objects.get(pk=need.pk).deleted_at is not None
    assert AuditEvent.objects.filter(action="needs.need.delete").count() == 1


def test_no_access_no_change(owner, teammate, outsider, auditor):
    customer = factories.customer(owner, "张三")
    need = record(owner, customer)
    for intruder in (teammate, outsider, auditor):
        with pytest.raises(AccessDenied):
            record(intruder, customer)
        with pytest.raises(AccessDenied):
            services.need_update(actor=intruder, need=need, expected_version=1, title="x")
        with pytest.raises(AccessDenied):
            services.need_delete(actor=intruder, need=need, expected_version=1)
    need.refresh_from_db()
    assert (need.title, need.version, need.deleted_at) == (BASIC["title"], 1, None)
    assert Need.all_objects.count() == 1


def test_team_scope_may_change_the_teams_customers(owner, team_a, team_b):
    agent = factories.user("agent", role_code="service_agent", team_obj=team_a)
    stranger = factories.user("agent2", role_code="service_agent", team_obj=team_b)
    customer = factories.customer(owner, "张三")
    need = record(agent, customer)
    assert need.author == agent
    with pytest.raises(AccessDenied):
        record(stranger, customer)


def test_deleted_needs_are_purged_after_the_grace_period(owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    from kehu.needs.tasks import purge_deleted_needs

    customer = factories.customer(owner, "张三")
    old, recent = record(owner, customer, title="旧"), record(owner, customer, title="新")
    for need in (old, recent):
        services.need_delete(actor=owner, need=need, expected_version=1)
    Need.all_objects.filter(pk=old.pk).update(
        deleted_at=timezone.now() - timedelta(days=settings.KEHU_PURGE_AFTER_DAYS + 1)
    )
    assert purge_deleted_needs.call() == 1
    assert list(Need.all_objects.values_list("title", flat=True)) == ["新"]
    assert AuditEvent.objects.filter(action="needs.need.purge", row_count=1).exists()

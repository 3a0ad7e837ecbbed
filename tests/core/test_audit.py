from __future__ import annotations

import importlib
import threading

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from kehu.core.audit import audit_record, audit_seal, audit_verify
from kehu.core.models import AuditChainHead, AuditEvent
from tests.conftest import is_postgres


def _write(n: int, actor="tester") -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="test.write",
                object_type="thing",
                object_id=i,
                changes={"name": [f"旧{i}", f"新{i}"], "amount": ["1.50", "2.00"]},
            )


@pytest.mark.django_db
def test_events_are_written_unsealed_then_sealed_in_id_order():
    _write(5)
    assert AuditEvent.objects.filter(seq__isnull=True).count() == 5
    assert audit_seal() == 5
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[1].prev_hash == events[0].hash
    head = AuditChainHead.objects.get()
    assert head.seq == 5 and head.hash == events[-1].hash
    report = audit_verify()
    assert report.ok and report.checked == 5 and report.unsealed == 0


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor="tester", action="test.write")
        raise RuntimeError
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_sealing_continues_the_chain_across_batches():
    _write(3)
    audit_seal(batch_size=2)
    _write(2)
    audit_seal(batch_size=2)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert audit_verify().ok


def _without_guard(sql: str, params=()) -> None:
    """Tamper as a database owner would: switch the guard trigger off first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_guard")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_guard")
        else:
            guard = importlib.import_module("kehu.core.migrations.0002_audit_guard")
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_guard")
            cursor.execute(sql, params)
            cursor.execute(guard.SQLITE_FORWARD)


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_a_sealed_event():
    _write(2)
    audit_seal()
    first = AuditEvent.objects.order_by("id").first()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditEvent.objects.filter(pk=first.pk).update(action="tampered")
    if is_postgres():
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=first.pk).delete()
    assert AuditEvent.objects.get(pk=first.pk).action == "test.write"


@pytest.mark.django_db(transaction=True)
def test_verify_finds_the_first_altered_event():
    _write(4)
    audit_seal()
    target = AuditEvent.objects.get(seq=3)
    _without_guard("UPDATE core_auditevent SET object_label = 'forged' WHERE id = %s", [target.pk])
    report = audit_verify()
    assert not report.ok
    assert report.broken_seq == 3 and report.broken_event_id == target.pk
    assert report.checked == 2


@pytest.mark.django_db(transaction=True)
def test_verify_finds_a_deleted_event_and_a_cut_tail():
    _write(4)
    audit_seal()
    second = AuditEvent.objects.get(seq=2)
    _without_guard("DELETE FROM core_auditevent WHERE id = %s", [second.pk])
    report = audit_verify()
    assert not report.ok and report.broken_seq == 2 and report.reason == "missing event"


@pytest.mark.django_db(transaction=True)
def test_verify_finds_a_deleted_last_event():
    _write(3)
    audit_seal()
    last = AuditEvent.objects.get(seq=3)
    _without_guard("DELETE FROM core_auditevent WHERE id = %s", [last.pk])
    report = audit_verify()
    assert not report.ok and report.reason == "events missing at the end"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_wait_on_the_chain():
    """Writers hold no shared lock: one writer's open transaction does not block another,
    even while a sealer holds the chain head."""
    if not is_postgres():
        pytest.skip("needs PostgreSQL")
    AuditChainHead.objects.get_or_create(id=1)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer():
        try:
            with transaction.atomic():
                audit_record(actor="slow", action="test.slow")
                started.set()
                release.wait(10)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    def sealer_holding_head():
        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(id=1)
                release.wait(10)
        finally:
            connection.close()

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=sealer_holding_head)]
    for t in threads:
        t.start()
    assert started.wait(10)
    fast_done = threading.Event()

    def fast_writer():
        try:
            with transaction.atomic():
                audit_record(actor="fast", action="test.fast")
            fast_done.set()
        finally:
            connection.close()

    t = threading.Thread(target=fast_writer)
    t.start()
    assert fast_done.wait(5), "a writer waited on another writer or on the sealer"
    release.set()
    for thread in [*threads, t]:
        thread.join(10)
    assert not errors
    assert audit_seal() == 2
    assert audit_verify().ok

"""The base models every business record builds on, on a throwaway concrete model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps
from django.utils import timezone

from kehu.core.models import AuditEvent, ConflictError, KehuModel
from kehu.core.services import purge_deleted, record_restore, record_soft_delete


@pytest.fixture
def Thing(transactional_db):
    with isolate_apps("kehu.core"):

        class Thing(KehuModel):
            name = models.CharField(max_length=50)

            class Meta:
                app_label = "core"

            def __str__(self) -> str:
                return self.name

        with connection.schema_editor() as editor:
            editor.create_model(Thing)
        yield Thing
        with connection.schema_editor() as editor:
            editor.delete_model(Thing)


def test_optimistic_locking(Thing):
    thing = Thing.objects.create(name="a")
    first, second = Thing.objects.get(pk=thing.pk), Thing.objects.get(pk=thing.pk)
    first.name = "b"
    first.save_versioned(expected_version=1, update_fields=["name"])
    assert first.version == 2
    second.name = "c"
    with pytest.raises(ConflictError):
        second.save_versioned(expected_version=1, update_fields=["name"])
    assert Thing.objects.get(pk=thing.pk).name == "b"


def test_soft_delete_restore_and_purge(Thing):
    thing = Thing.objects.create(name="keep me")
    record_soft_delete(actor="tester", obj=thing, expected_version=1)
    assert not Thing.objects.filter(pk=thing.pk).exists()
    assert Thing.all_objects.filter(pk=thing.pk, deleted_at__isnull=False).exists()
    with pytest.raises(ConflictError):
        record_soft_delete(actor="tester", obj=thing)  # already deleted
    record_restore(actor="tester", obj=thing)
    assert Thing.objects.get(pk=thing.pk).version == 3
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["core.thing.delete", "core.thing.restore"]
    old = Thing.objects.create(name="old")
    record_soft_delete(actor="tester", obj=old)
    Thing.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert purge_deleted(model=Thing) == 1
    assert not Thing.all_objects.filter(pk=old.pk).exists()
    assert Thing.objects.filter(pk=thing.pk).exists()


def test_stale_soft_delete_conflicts(Thing):
    thing = Thing.objects.create(name="x")
    Thing.objects.filter(pk=thing.pk).update(version=5)
    with pytest.raises(ConflictError):
        record_soft_delete(actor="tester", obj=thing, expected_version=1)
    assert Thing.objects.filter(pk=thing.pk).exists()

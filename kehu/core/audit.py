"""The audit log: record events in the writer's transaction; seal them into a hash chain
afterwards; verify the chain.

Recording is one INSERT with no shared lock, so concurrent writers do not wait on each
other. Sealing takes the chain head's row lock for one short batch at a time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from kehu.core.models import AuditChainHead, AuditEvent
from kehu.core.request_context import current_request_info

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    """Turn field values (dates, decimals, model instances) into plain JSON values."""
    if isinstance(value, models.Model):
        return value.pk
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [old, new]} for the fields whose value changed."""
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = _jsonable(before.get(name)), _jsonable(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_label: str = "",
    changes: dict[str, Any] | None = None,
    row_count: int | None = None,
) -> AuditEvent:
    """Write one audit event. Call it inside the transaction of the change it records."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)
    info = current_request_info()
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_label=(actor_obj.get_username() if actor_obj else str(actor or "system"))[:200],
        action=action,
        object_type=object_type,
        object_id=str(object_id or "")[:64],
        object_label=str(object_label)[:200],
        changes=_jsonable(changes or {}),
        row_count=row_count,
        ip=info.ip,
        user_agent=info.user_agent[:300],
    )


def _event_digest(event: AuditEvent, seq: int, prev_hash: str) -> str:
    payload = [
        seq,
        prev_hash,
        event.id,
        event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        event.actor_id,
        event.actor_label,
        event.action,
        event.object_type,
        event.object_id,
        event.object_label,
        event.changes,
        event.row_count,
        event.ip,
        event.user_agent,
    ]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def audit_seal(*, batch_size: int = 2000, max_batches: int = 50) -> int:
    """Give unsealed events their place in the chain, in id order. Return how many."""
    sealed = 0
    for _ in range(max_batches):
        with transaction.atomic():
            head, _created = AuditChainHead.objects.select_for_update().get_or_create(id=1)
            events = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
            if not events:
                break
            seq, prev = head.seq, head.hash
            for event in events:
                seq += 1
                event.seq, event.prev_hash = seq, prev
                event.hash = prev = _event_digest(event, seq, prev)
            # One parameterised UPDATE per row through executemany: bulk_update's large
            # CASE expression made sealing barely faster than writing (bench/audit).
            table = connection.ops.quote_name(AuditEvent._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                    [(e.seq, e.prev_hash, e.hash, e.id) for e in events],
                )
            head.seq, head.hash, head.sealed_at = seq, prev, timezone.now()
            head.save()
            sealed += len(events)
        if len(events) < batch_size:
            break
    return sealed


@dataclass
class VerifyReport:
    checked: int
    unsealed: int
    broken_seq: int | None = None
    broken_event_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def audit_verify() -> VerifyReport:
    """Recompute the chain from the start; report the first broken link."""
    head = AuditChainHead.objects.filter(id=1).first()
    expected_seq, prev = 0, GENESIS
    checked = 0
    sealed = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
    for event in sealed.iterator(chunk_size=2000):
        expected_seq += 1
        if event.seq != expected_seq:
            return VerifyReport(checked, unsealed, expected_seq, event.id, "missing event")
        if event.prev_hash != prev:
            return VerifyReport(checked, unsealed, event.seq, event.id, "previous hash differs")
        if _event_digest(event, event.seq, prev) != event.hash:
            return VerifyReport(checked, unsealed, event.seq, event.id, "event was altered")
        prev = event.hash
        checked += 1
    if head is not None and (head.seq != expected_seq or head.hash != prev):
        return VerifyReport(checked, unsealed, expected_seq + 1, None, "events missing at the end")
    return VerifyReport(checked, unsealed)

"""Make the audit log append-only in the database itself, and create the chain head.

PostgreSQL refuses DELETE and any UPDATE of a sealed row. SQLite refuses updates of
sealed rows (Django's test flush deletes rows, so DELETE stays possible there; the hash
chain still reveals a deleted event).
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION kehu_audit_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'kehu: audit events are append-only';
  END IF;
  IF OLD.seq IS NOT NULL THEN
    RAISE EXCEPTION 'kehu: a sealed audit event cannot change';
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditevent_guard BEFORE UPDATE OR DELETE ON core_auditevent
  FOR EACH ROW EXECUTE FUNCTION kehu_audit_guard();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_auditevent_guard ON core_auditevent;
DROP FUNCTION IF EXISTS kehu_audit_guard();
"""
SQLITE_FORWARD = """
CREATE TRIGGER core_auditevent_guard BEFORE UPDATE ON core_auditevent
FOR EACH ROW WHEN OLD.seq IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'kehu: a sealed audit event cannot change');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS core_auditevent_guard;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)
    apps.get_model("core", "AuditChainHead").objects.get_or_create(id=1)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]

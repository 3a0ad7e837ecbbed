"""Grant the new customer-file permissions to the built-in roles (editable afterwards)."""

from django.db import migrations

REVEAL, MERGE, IMPORT, EXPORT, FIELDS, ACCESS, RESTORE = (
    "customers.reveal",
    "customers.merge",
    "customers.import",
    "customers.export",
    "customers.custom_fields",
    "customers.view_access",
    "customers.restore",
)
GRANTS = {
    "administrator": [REVEAL, MERGE, IMPORT, EXPORT, FIELDS, ACCESS, RESTORE],
    "manager": [REVEAL, MERGE, IMPORT, EXPORT, ACCESS],
    "sales": [REVEAL, IMPORT],
    "service_agent": [REVEAL],
    "auditor": [ACCESS],
}


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, perms in GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_custom_fields_merge_saved_filters")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]

"""A starting pipeline (editable by administrators) and sales permissions for the built-in
roles."""

from django.db import migrations

STAGES = [
    # position, English, Simplified, Traditional, win probability %
    (0, "Qualification", "初步接洽", "初步接洽", 10),
    (1, "Needs analysis", "需求确认", "需求確認", 25),
    (2, "Proposal and quote", "方案报价", "方案報價", 50),
    (3, "Negotiation", "商务谈判", "商務談判", 75),
    (4, "Contract signing", "签约", "簽約", 90),
]
VIEW, CHANGE, DELETE, CATALOGUE, QUOTAS, IMPORT = (
    "sales.view",
    "sales.change",
    "sales.delete",
    "sales.catalogue",
    "sales.quotas",
    "sales.import",
)
GRANTS = {
    "administrator": [VIEW, CHANGE, DELETE, CATALOGUE, QUOTAS, IMPORT],
    "manager": [VIEW, CHANGE, DELETE, QUOTAS, IMPORT],
    "sales": [VIEW, CHANGE],
    "service_agent": [VIEW],
    "marketer": [VIEW],
    "auditor": [VIEW],
}


def seed(apps, schema_editor):
    Stage = apps.get_model("sales", "PipelineStage")
    if not Stage.objects.exists():
        for position, en, hans, hant, probability in STAGES:
            Stage.objects.create(
                position=position,
                name_en=en,
                name_zh_hans=hans,
                name_zh_hant=hant,
                probability=probability,
            )
    grant(apps, schema_editor)


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, perms in GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None:
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("accounts", "0002_seed_departments_roles")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

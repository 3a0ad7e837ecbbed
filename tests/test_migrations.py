import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


SOFT_DELETING = {
    "customers_customer": "cust_deleted_idx",
    "customers_contact": "contact_deleted_idx",
    "needs_need": "need_deleted_idx",
    "sales_order": "order_deleted_idx",
    "sales_contract": "contract_deleted_idx",
    "sales_opportunity": "opp_deleted_idx",
    "sales_product": "product_deleted_idx",
    "sales_quota": "quota_deleted_idx",
}


@pytest.mark.django_db
@pytest.mark.parametrize(("table", "partial"), SOFT_DELETING.items())
def test_deleted_at_has_only_the_partial_index_of_deleted_rows(table, partial):
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    on_deleted_at = {
        name for name, c in constraints.items() if c["index"] and c["columns"] == ["deleted_at"]
    }
    assert on_deleted_at == {partial}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [partial])
            assert "WHERE (deleted_at IS NOT NULL)" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_customer_fts_triggers_survive_the_migrations():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert {
        "customers_customer_fts_ai",
        "customers_customer_fts_ad",
        "customers_customer_fts_au",
    } <= triggers

"""The deployment check on PostgreSQL's buffer cache (kehu.W002)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from kehu.core import checks

pytestmark = pytest.mark.django_db


def test_no_database_no_query():
    assert checks.check_postgres_memory(databases=None) == []


def test_sqlite_is_not_judged():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert checks.check_postgres_memory(databases=["default"]) == []


@pytest.mark.postgres
def test_small_shared_buffers_warns_with_the_size_and_a_hint(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    size = checks.shared_buffers_bytes(connection)
    assert size >= 16 << 20  # PostgreSQL's floor is 128 kB; every real server has more
    monkeypatch.setattr(checks, "MIN_SHARED_BUFFERS", size + 1)
    [warning] = checks.check_postgres_memory(databases=["default"])
    assert warning.id == "kehu.W002" and f"{size >> 20} MB" in warning.msg
    assert "quarter" in warning.hint
    monkeypatch.setattr(checks, "MIN_SHARED_BUFFERS", size)
    assert checks.check_postgres_memory(databases=["default"]) == []


@pytest.mark.postgres
def test_deploy_check_command_reports_it(monkeypatch, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(checks, "MIN_SHARED_BUFFERS", 1 << 50)
    call_command("check", "--database", "default", "--tag", "database")
    assert "kehu.W002" not in capsys.readouterr().err  # a deployment check only
    call_command("check", "--deploy", "--database", "default", "--tag", "database")
    assert "kehu.W002" in capsys.readouterr().err

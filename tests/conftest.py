"""Shared fixtures: the cast (admin, owner, teammate, outsider, auditor) and clients."""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connection
from django.test import Client

from tests import factories

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def team_a(db):
    return factories.team("华东销售一组", "sales")


@pytest.fixture
def team_b(db):
    return factories.team("客服热线组", "service")


@pytest.fixture
def admin_user(db):
    return factories.user("admin1", role_code="administrator", name="管理员")


@pytest.fixture
def owner(team_a):
    return factories.user("owner", role_code="sales", team_obj=team_a, name="张三")


@pytest.fixture
def teammate(team_a):
    return factories.user("teammate", role_code="sales", team_obj=team_a, name="李娜")


@pytest.fixture
def outsider(team_b):
    return factories.user("outsider", role_code="member", team_obj=team_b, name="王五")


@pytest.fixture
def auditor(db):
    return factories.user("auditor1", role_code="auditor", name="审计员")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="kehu.accounts.backends.KehuBackend")
    return client


@pytest.fixture
def admin_client_(admin_user) -> Client:
    return signed_in(admin_user)


def token_client(user) -> Client:
    _token, secret = factories.api_token(user)
    return Client(headers={"Authorization": f"Bearer {secret}"})


def seed_reference_data() -> None:
    """Put back what data migrations wrote (departments, roles and their permissions, the
    audit chain head) after a transactional test's flush removed it. Idempotent."""
    import importlib

    from django.apps import apps

    from kehu.core.models import AuditChainHead

    importlib.import_module("kehu.accounts.migrations.0002_seed_departments_roles").seed(apps, None)
    importlib.import_module(
        "kehu.customers.migrations.0002_search_index_and_role_permissions"
    ).grant(apps)
    importlib.import_module("kehu.customers.migrations.0006_role_permissions").grant(apps, None)
    importlib.import_module("kehu.customers.migrations.0012_tag_permission").grant(apps, None)
    importlib.import_module("kehu.sales.migrations.0002_stages_and_role_permissions").seed(
        apps, None
    )
    AuditChainHead.objects.get_or_create(id=1)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def chromium_path() -> str | None:
    candidate = os.environ.get("KEHU_CHROMIUM") or "/usr/bin/chromium"
    return candidate if shutil.which(candidate) or os.path.exists(candidate) else None

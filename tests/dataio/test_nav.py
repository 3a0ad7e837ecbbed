"""The Import menu item: one page for every kind, shown to whoever may import any kind."""

from __future__ import annotations

import pytest

from kehu.accounts.models import Role
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def _user_with(*permissions: str):
    role = Role.objects.create(
        code=f"r{len(permissions)}{'-'.join(p.split('.')[0] for p in permissions)}",
        name_en="Role",
        permissions=list(permissions),
    )
    return factories.user(role_code=role.code)


@pytest.mark.parametrize(
    ("permissions", "sees_import"),
    [
        (("sales.view", "sales.import"), True),  # orders only: the menu used to hide it
        (("customers.view", "customers.import"), True),
        (("customers.view", "sales.view"), False),
    ],
)
def test_import_menu_follows_any_import_permission(permissions, sees_import):
    client = signed_in(_user_with(*permissions))
    html = client.get("/").content.decode()
    assert ('href="/imports/"' in html) is sees_import
    assert client.get("/imports/").status_code == (200 if sees_import else 404)

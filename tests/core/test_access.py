from __future__ import annotations

import pytest
from django.http import Http404

from kehu.accounts.models import User
from kehu.core.access import get_visible_or_404, has_perm, scoped
from kehu.core.checks import undeclared_views, walk_api_operations, walk_patterns
from kehu.core.permissions import Perm
from tests import factories


def test_every_page_and_api_operation_declares_a_permission():
    assert list(walk_patterns()), "no URL patterns found"
    assert list(walk_api_operations()), "no API operations found"
    assert undeclared_views() == []


def test_a_view_without_permission_is_reported(settings):
    from django.urls import path

    def naked(request):  # pragma: no cover - never called
        return None

    import kehu.urls

    original = list(kehu.urls.urlpatterns)
    kehu.urls.urlpatterns.append(path("naked/", naked))
    from django.urls import clear_url_caches

    clear_url_caches()
    try:
        assert "naked/" in undeclared_views()
    finally:
        kehu.urls.urlpatterns[:] = original
        clear_url_caches()


@pytest.mark.django_db
def test_scope_own_team_department_all(owner, teammate, outsider, admin_user):
    manager = factories.user("mgr", role_code="manager", team_obj=owner.team)
    # Users are scoped by the role's data scope for VIEW_USERS.
    seen_by_owner = set(scoped(owner, Perm.VIEW_USERS, User).values_list("username", flat=True))
    assert seen_by_owner == {"owner"}
    seen_by_manager = set(scoped(manager, Perm.VIEW_USERS, User).values_list("username", flat=True))
    assert {"owner", "teammate", "mgr"} <= seen_by_manager
    assert "outsider" not in seen_by_manager
    seen_by_admin = set(
        scoped(admin_user, Perm.VIEW_USERS, User).values_list("username", flat=True)
    )
    assert {"owner", "teammate", "outsider", "admin1"} <= seen_by_admin


@pytest.mark.django_db
def test_no_permission_sees_nothing_and_gets_404(outsider, owner):
    assert not has_perm(outsider, Perm.VIEW_USERS)
    assert scoped(outsider, Perm.VIEW_USERS, User).count() == 0
    with pytest.raises(Http404):
        get_visible_or_404(outsider, Perm.VIEW_USERS, User, pk=owner.pk)


@pytest.mark.django_db
def test_disabled_user_has_no_permissions(admin_user):
    admin_user.is_active = False
    assert not has_perm(admin_user, Perm.MANAGE_USERS)

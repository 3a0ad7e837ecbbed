from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from kehu.accounts import services
from kehu.accounts.models import ApiToken, LoginThrottle, User
from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, ConflictError
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def _sign_in(identifier: str, password: str = factories.PASSWORD):
    return services.sign_in(request=None, identifier=identifier, password=password)


def test_sign_in_by_username_email_or_mobile(owner):
    owner.email = "Zhang.San@Example.com"
    owner.mobile = "13812345678"
    owner.save()
    assert _sign_in("owner").user == owner
    assert _sign_in("zhang.san@example.com").user == owner
    assert _sign_in("+86 138-1234-5678").user == owner
    assert AuditEvent.objects.filter(action="auth.login", actor=owner).count() == 3


def test_wrong_password_is_audited_and_locks_after_limit(owner, settings):
    settings.KEHU_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        assert _sign_in("owner", "wrong").error == "invalid"
    result = _sign_in("owner", "wrong")
    assert result.error == "locked"
    # Locked: even the right password is refused, and that attempt is audited too.
    assert _sign_in("owner").error == "locked"
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 3
    assert AuditEvent.objects.filter(action="auth.login_locked").count() == 1
    # The lock expires.
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert _sign_in("owner").user == owner


def test_disabled_user_cannot_sign_in(owner, admin_user):
    services.user_set_active(actor=admin_user, user=owner, is_active=False)
    assert _sign_in("owner").user is None


def test_disabling_ends_sessions_and_tokens(owner, admin_user):
    client = Client()
    assert client.login(username="owner", password=factories.PASSWORD)
    assert client.get("/").status_code == 200
    _token, secret = factories.api_token(owner)
    assert services.token_authenticate(secret) == owner
    services.user_set_active(actor=admin_user, user=owner, is_active=False)
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert services.token_authenticate(secret) is None
    assert ApiToken.objects.filter(user=owner, revoked_at__isnull=True).count() == 0
    # Enabling again does not resurrect the old session.
    services.user_set_active(actor=admin_user, user=owner, is_active=True)
    assert client.get("/").status_code == 302


def test_cannot_disable_yourself(admin_user):
    with pytest.raises(ValidationError):
        services.user_set_active(actor=admin_user, user=admin_user, is_active=False)


def test_user_create_validates_and_audits(admin_user, team_a):
    user = services.user_create(
        actor=admin_user,
        username="new.person",
        password="Sufficiently-Long-99",
        name="新人",
        email="New@Example.com",
        mobile="+86 139 0000 1111",
        team=team_a,
        department=None,
        role=factories.role("sales"),
    )
    assert user.email == "new@example.com"
    assert user.mobile == "13900001111"
    assert user.department == team_a.department  # taken from the team
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert event.actor == admin_user
    assert event.changes["name"] == [None, "新人"]
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=admin_user, username="NEW.PERSON", password="x")
    assert "username" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=admin_user, username="other", email="new@example.com")
    assert "email" in exc.value.message_dict
    for bad in ("a", "名字", "x" * 65, "with space", "<script>"):
        with pytest.raises(ValidationError):
            services.user_create(actor=admin_user, username=bad)
    with pytest.raises(ValidationError) as exc:
        services.user_create(actor=admin_user, username="weakpw", password="123")
    assert not User.objects.filter(username="weakpw").exists()


def test_only_managers_of_users_create_users(owner):
    with pytest.raises(AccessDenied):
        services.user_create(actor=owner, username="sneaky")
    assert not User.objects.filter(username="sneaky").exists()
    assert not AuditEvent.objects.filter(action="user.create").exists()


def test_stale_update_conflicts_and_loses_nothing(admin_user, owner):
    version = owner.version
    first = User.objects.get(pk=owner.pk)
    second = User.objects.get(pk=owner.pk)
    services.user_update(actor=admin_user, user=first, expected_version=version, name="张三丰")
    with pytest.raises(ConflictError):
        services.user_update(actor=admin_user, user=second, expected_version=version, name="张三X")
    owner.refresh_from_db()
    assert owner.name == "张三丰"
    assert owner.version == version + 1
    event = AuditEvent.objects.get(action="user.update")
    assert event.changes == {"name": ["张三", "张三丰"]}


def test_user_update_rejects_bad_input(admin_user, owner, team_b):
    for fields in ({"language": "klingon"}, {"time_zone": "Mars/Olympus"}, {"mobile": "12"}):
        with pytest.raises(ValidationError):
            services.user_update(
                actor=admin_user, user=owner, expected_version=owner.version, **fields
            )
    with pytest.raises(ValidationError):
        services.user_update(
            actor=admin_user,
            user=owner,
            expected_version=owner.version,
            team=team_b,
            department=factories.department("sales"),
        )
    owner.refresh_from_db()
    assert owner.version == 1


def test_token_is_hashed_at_rest_revocable_and_expires(owner):
    token, secret = factories.api_token(owner)
    assert secret.startswith("kehu_")
    assert len(secret.split("_", 2)[2]) >= 43  # 256 bits url-safe
    assert secret not in token.key_hash and len(token.key_hash) == 64
    assert services.token_authenticate(secret) == owner
    assert services.token_authenticate(secret + "x") is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.token_authenticate(secret) is None
    token2, secret2 = factories.api_token(owner)
    services.token_revoke(actor=owner, token=token2)
    assert services.token_authenticate(secret2) is None


def test_nobody_revokes_another_users_token(owner, teammate):
    token, secret = factories.api_token(owner)
    with pytest.raises(AccessDenied):
        services.token_revoke(actor=teammate, token=token)
    assert services.token_authenticate(secret) == owner


def test_password_change_ends_other_sessions(owner):
    other = signed_in(owner)
    assert other.get("/").status_code == 200
    with pytest.raises(ValidationError):
        services.password_change(
            user=owner, old_password="nope", new_password="Another-Good-Pass-1"
        )
    services.password_change(
        user=owner, old_password=factories.PASSWORD, new_password="Another-Good-Pass-1"
    )
    assert other.get("/").status_code == 302
    assert _sign_in("owner", "Another-Good-Pass-1").user == owner


def test_role_permissions_are_checked(admin_user):
    role = factories.role("sales")
    with pytest.raises(ValidationError):
        services.role_save(
            actor=admin_user, role=role, expected_version=role.version, permissions=["root"]
        )
    updated = services.role_save(
        actor=admin_user, role=role, expected_version=role.version, permissions=["audit.view"]
    )
    assert updated.permissions == ["audit.view"]


def test_lockout_is_per_account_whatever_identifier_is_typed(owner, settings):
    settings.KEHU_LOGIN_MAX_FAILURES = 2
    owner.email = "owner@example.com"
    owner.save()
    assert _sign_in("owner@example.com", "wrong").error == "invalid"
    assert _sign_in("OWNER", "wrong").error == "locked"
    assert _sign_in("owner").error == "locked"


def test_username_is_case_insensitive_at_sign_in(owner):
    assert _sign_in("Owner").user == owner


def test_client_ip_ignores_what_the_client_wrote(settings, rf):
    from kehu.core.middleware import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    settings.KEHU_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.KEHU_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"
    settings.KEHU_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"

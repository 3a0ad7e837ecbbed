from __future__ import annotations

import pytest
from django.test import Client

from kehu.accounts.models import Team, User
from kehu.core.models import AuditEvent
from tests import factories
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/accounts/users/",
    "/accounts/users/new/",
    "/accounts/departments/",
    "/accounts/departments/new/",
    "/accounts/teams/",
    "/accounts/teams/new/",
    "/accounts/roles/",
    "/accounts/roles/new/",
]


def test_anonymous_is_sent_to_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")


def test_login_page_signs_in_and_shows_real_counts(admin_user, owner):
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = client.post(
        "/accounts/login/", {"identifier": "admin1", "password": factories.PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    active = User.objects.filter(is_active=True).count()
    assert f'<div class="kpi-value" data-value>{active}</div>' in home.content.decode()


def test_wrong_password_and_lockout_messages(owner, settings):
    settings.KEHU_LOGIN_MAX_FAILURES = 2
    settings.LANGUAGE_CODE = "en"
    client = Client(headers={"Accept-Language": "en"})
    response = client.post("/accounts/login/", {"identifier": "owner", "password": "nope"})
    assert response.status_code == 401
    assert "not correct" in response.content.decode()
    response = client.post("/accounts/login/", {"identifier": "owner", "password": "nope"})
    assert response.status_code == 429
    response = client.post(
        "/accounts/login/", {"identifier": "owner", "password": factories.PASSWORD}
    )
    assert response.status_code == 429
    assert "locked" in response.content.decode()


def test_login_next_cannot_leave_the_site(owner):
    response = Client().post(
        "/accounts/login/?next=https://evil.example/",
        {"identifier": "owner", "password": factories.PASSWORD},
    )
    assert response["Location"] == "/"


def test_logout_needs_post_and_is_audited(owner):
    client = signed_in(owner)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.logout", actor=owner).exists()


def test_missing_csrf_is_a_clear_403(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/", {"identifier": "owner", "password": factories.PASSWORD}
    )
    assert response.status_code == 403
    assert "security token" in response.content.decode() or "安全" in response.content.decode()


def test_language_switch_is_remembered_and_unknown_is_400(owner):
    client = signed_in(owner)
    response = client.post("/accounts/language/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["kehu_language"].value == "en"
    owner.refresh_from_db()
    assert owner.language == "en"
    response = client.post("/accounts/language/", {"language": "xx-klingon"})
    assert response.status_code == 400
    assert "xx-klingon" in response.content.decode()
    owner.refresh_from_db()
    assert owner.language == "en"


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_owner_and_outsider_get_404(url, owner, outsider, admin_user):
    assert signed_in(owner).get(url).status_code == 404
    assert signed_in(outsider).get(url).status_code == 404
    assert signed_in(admin_user).get(url).status_code == 200


def test_outsider_cannot_change_a_user_through_pages(outsider, owner):
    client = signed_in(outsider)
    response = client.post(f"/accounts/users/{owner.pk}/", {"name": "x", "version": owner.version})
    assert response.status_code == 404
    response = client.post(f"/accounts/users/{owner.pk}/active/", {"active": "0"})
    assert response.status_code == 404
    owner.refresh_from_db()
    assert owner.is_active and owner.name == "张三"


def test_user_edit_conflict_shows_reload_message(admin_user, owner):
    client = signed_in(admin_user)
    form = {
        "name": "张三丰",
        "email": "",
        "mobile": "",
        "language": "",
        "time_zone": "",
        "version": owner.version,
    }
    assert client.post(f"/accounts/users/{owner.pk}/", form).status_code == 302
    stale = dict(form, name="张三二")
    response = client.post(f"/accounts/users/{owner.pk}/", stale)
    assert response.status_code == 409
    assert 'id="conflict-message"' in response.content.decode()
    owner.refresh_from_db()
    assert owner.name == "张三丰"


def test_hostile_text_is_escaped_on_pages(admin_user):
    client = signed_in(admin_user)
    response = client.post(
        "/accounts/teams/new/",
        {
            "name": '<script>alert(1)</script>=cmd|"/c calc"',
            "department": factories.department().pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    page = client.get("/accounts/teams/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert Team.objects.filter(name__startswith="<script>").exists()


def test_long_and_control_characters_are_rejected_cleanly(admin_user):
    client = signed_in(admin_user)
    response = client.post(
        "/accounts/users/new/", {"username": "x" * 10_000, "name": "y" * 10_000, "email": "bad"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(name="y" * 100).exists()
    response = client.post("/accounts/users/new/", {"username": "ctl\x00name"})
    assert response.status_code == 400


def test_profile_creates_and_revokes_a_token(owner):
    client = signed_in(owner)
    response = client.post("/accounts/me/", {"form": "token", "name": "脚本", "days": 30})
    assert response.status_code == 200
    secret = response.context["new_token"]
    assert secret.startswith("kehu_")
    token = owner.api_tokens.get()
    assert (
        Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 200
    )
    client.post(f"/accounts/me/tokens/{token.pk}/revoke/")
    assert (
        Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 401
    )


def test_audit_page_for_auditor_only(auditor, owner):
    signed_in(owner)  # nothing logged for force_login; log an event explicitly
    from kehu.core.audit import audit_record

    audit_record(actor=owner, action="auth.login", obj=owner)
    audit_record(actor=owner, action="user.update", obj=owner)
    client = signed_in(auditor)
    page = client.get("/audit/?action=auth.")
    assert page.status_code == 200
    html = page.content.decode()
    assert "auth.login" in html and "user.update" not in html
    partial = client.get("/audit/?action=user.", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert signed_in(owner).get("/audit/").status_code == 404


def test_oversized_form_post_is_413(owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    client = signed_in(owner)
    response = client.post("/accounts/me/", {"form": "token", "name": "x" * 5000})
    assert response.status_code == 413
    assert not owner.api_tokens.exists()

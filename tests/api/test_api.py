from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client

from kehu.accounts.models import ApiToken, User
from kehu.core.models import AuditEvent
from kehu.core.openapi_dump import schema_json
from tests import factories
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def test_health_is_public():
    response = Client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_schema_is_committed_and_current():
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == schema_json(), "docs/openapi.json drifted: run `make openapi`"


def test_unauthenticated_gets_401_with_the_error_shape():
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"


def test_token_auth_and_bad_tokens(owner):
    client = token_client(owner)
    assert client.get("/api/v1/me").json()["username"] == "owner"
    for header in ("Bearer kehu_nope_nope", "Bearer ", "Basic abc", "Bearer " + "x" * 5000):
        response = Client(headers={"Authorization": header}).get("/api/v1/me")
        assert response.status_code == 401
        error_of(response)


def test_expired_token_is_refused(owner):
    from datetime import timedelta

    from django.utils import timezone

    token, secret = factories.api_token(owner)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me")
    assert response.status_code == 401


def test_session_auth_needs_csrf_for_writes(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner, backend="kehu.accounts.backends.KehuBackend")
    assert client.get("/api/v1/me").status_code == 200
    response = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
    assert not ApiToken.objects.filter(user=owner).exists()


def test_malformed_json_is_a_clear_400(admin_user):
    client = token_client(admin_user)
    response = client.post("/api/v1/users", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_body"


def test_oversized_body_is_413(admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = token_client(admin_user)
    response = client.post(
        "/api/v1/users", json.dumps({"username": "x" * 5000}), content_type="application/json"
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_validation_errors_name_the_field(admin_user):
    client = token_client(admin_user)
    response = client.post(
        "/api/v1/users", {"username": "bad name!"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "username" in error_of(response)["fields"]
    response = client.post(
        "/api/v1/users",
        {"username": "okname", "time_zone": "Nowhere/Land"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "time_zone" in error_of(response)["fields"]
    assert not User.objects.filter(username="okname").exists()


def test_user_api_access_owner_teammate_outsider(admin_user, owner, teammate, outsider):
    # A salesperson sees only themself (scope: own); a member without the permission gets 404.
    as_owner = token_client(owner)
    listed = as_owner.get("/api/v1/users").json()
    assert [u["username"] for u in listed["items"]] == ["owner"]
    assert as_owner.get(f"/api/v1/users/{teammate.pk}").status_code == 404
    as_outsider = token_client(outsider)
    assert as_outsider.get("/api/v1/users").status_code == 404
    assert as_outsider.get(f"/api/v1/users/{owner.pk}").status_code == 404
    # The outsider cannot change anyone, and nothing changes.
    before = User.objects.get(pk=owner.pk).version
    response = as_outsider.patch(
        f"/api/v1/users/{owner.pk}",
        {"version": before, "name": "hacked"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert User.objects.get(pk=owner.pk).name == "张三"
    assert not AuditEvent.objects.filter(action="user.update").exists()


def test_user_api_create_update_conflict_disable(admin_user, team_a):
    client = token_client(admin_user)
    response = client.post(
        "/api/v1/users",
        {
            "username": "wang.wu",
            "password": "Good-Enough-Pass-7",
            "name": "王五",
            "team_id": team_a.pk,
            "role_id": factories.role("sales").pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["department_id"] == team_a.department_id
    url = f"/api/v1/users/{created['id']}"
    ok = client.patch(
        url, {"version": created["version"], "name": "王五一"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == created["version"] + 1
    stale = client.patch(
        url, {"version": created["version"], "name": "王五二"}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "conflict"
    assert User.objects.get(pk=created["id"]).name == "王五一"
    assert client.post(f"{url}/disable").json()["is_active"] is False
    assert client.patch(url, {"version": 1}, content_type="application/json").status_code in (409,)


def test_tokens_api_creates_once_and_revokes(owner, teammate):
    client = signed_in(owner)
    response = client.post(
        "/api/v1/tokens", {"name": "script", "days": 7}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    secret = body["token"]
    assert (
        Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 200
    )
    listed = client.get("/api/v1/tokens").json()
    assert all("token" not in t for t in listed)
    # A teammate cannot revoke it (404), and it keeps working.
    assert signed_in(teammate).delete(f"/api/v1/tokens/{body['id']}").status_code == 404
    assert (
        Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 200
    )
    assert client.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    assert (
        Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 401
    )


def test_audit_api_is_for_auditors(auditor, owner):
    signed_in(owner).get("/")
    from kehu.core.audit import audit_record

    audit_record(actor=owner, action="test.thing", object_type="x", object_id=1)
    response = token_client(auditor).get("/api/v1/audit-events?action=test.")
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["items"]] == ["test.thing"]
    assert token_client(owner).get("/api/v1/audit-events").status_code == 404


def test_unknown_route_is_json_404(owner):
    response = token_client(owner).get("/api/v1/nothing-here")
    assert response.status_code == 404


def test_team_sets_the_department_and_a_mismatch_is_a_rule_conflict(admin_user, owner, team_b):
    client = token_client(admin_user)
    url = f"/api/v1/users/{owner.pk}"
    moved = client.patch(
        url, {"version": owner.version, "team_id": team_b.pk}, content_type="application/json"
    )
    assert moved.status_code == 200
    assert moved.json()["department_id"] == team_b.department_id
    clash = client.patch(
        url,
        {
            "version": moved.json()["version"],
            "team_id": team_b.pk,
            "department_id": factories.department("hr").pk,
        },
        content_type="application/json",
    )
    assert clash.status_code == 409
    assert error_of(clash)["code"] == "rule"


def test_unknown_fields_are_refused_and_noop_patch_keeps_the_version(admin_user, owner):
    client = token_client(admin_user)
    url = f"/api/v1/users/{owner.pk}"
    typo = client.patch(
        url, {"version": owner.version, "nmae": "x"}, content_type="application/json"
    )
    assert typo.status_code == 422
    assert "nmae" in error_of(typo)["fields"]
    same = client.patch(
        url, {"version": owner.version, "name": owner.name}, content_type="application/json"
    )
    assert same.status_code == 200 and same.json()["version"] == owner.version
    stale = client.patch(
        url, {"version": owner.version + 5, "name": owner.name}, content_type="application/json"
    )
    assert stale.status_code == 409


def test_unknown_reference_is_404_naming_the_field(admin_user):
    response = token_client(admin_user).post(
        "/api/v1/users",
        {"username": "ref.test", "team_id": 999999},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert "team_id" in error_of(response)["fields"]
    assert not User.objects.filter(username="ref.test").exists()


def test_wrong_method_has_the_error_shape(owner):
    response = token_client(owner).put("/api/v1/me")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_token_users_language_is_applied(owner):
    owner.language = "en"
    owner.save()
    response = token_client(owner).get("/api/v1/users/999999")
    assert response.status_code == 404
    assert error_of(response)["message"] == "Not found."
    owner.language = "zh-hans"
    owner.save()
    response = token_client(owner).get("/api/v1/users/999999")
    assert error_of(response)["message"] != "Not found."


@pytest.mark.django_db
def test_malformed_multipart_is_a_400_not_a_500(owner):
    client = token_client(owner)
    response = client.generic("POST", "/api/v1/imports", b"xx", content_type="multipart/form-data")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_body"

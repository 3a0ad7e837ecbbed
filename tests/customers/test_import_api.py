"""Import jobs through the API and the pages: the flow, and who may see which job."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.customers.models import Customer
from kehu.dataio.models import ImportJob, ImportRowError
from tests.conftest import signed_in, token_client
from tests.dataio.helpers import csv_bytes, upload

pytestmark = pytest.mark.django_db

DATA = csv_bytes(
    [["姓名", "手机", "城市"], ["张三", "13812345678", "上海"], ["坏", "12", ""]], encoding="gbk"
)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return tmp_path


def _patch(client, url, body):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_api_flow_upload_map_dry_run_start_errors(owner, django_capture_on_commit_callbacks):
    client = token_client(owner)
    response = client.post(
        "/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile("客户.csv", DATA)}
    )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["headers"] == ["姓名", "手机", "城市"]
    assert job["mapping"] == {"姓名": "name", "手机": "mobile", "城市": "city"}
    assert job["encoding"] == "gb18030" and job["status"] == "pending"
    assert any(f["name"] == "name" and f["required"] for f in job["fields"])
    url = f"/api/v1/imports/{job['id']}"
    response = _patch(client, url, {"options": {"on_duplicate": "update"}, "mapping": {"城市": ""}})
    assert response.status_code == 200 and response.json()["mapping"]["城市"] == ""
    assert response.json()["options"] == {"on_duplicate": "update"}
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, f"{url}/start", {"dry_run": True})
    assert response.status_code == 200
    body = client.get(url).json()
    assert (body["status"], body["dry_run"], body["created"], body["rejected"]) == (
        "done", True, 1, 1,
    )  # fmt: skip
    assert Customer.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, f"{url}/start", {"dry_run": False})
    body = client.get(url).json()
    assert (body["status"], body["progress"], body["created"], body["error_report"]) == (
        "done", 100, 1, True,
    )  # fmt: skip
    assert Customer.objects.get().city == ""  # the column was ignored
    errors = client.get(f"{url}/errors").json()
    assert [e["row_number"] for e in errors["items"]] == [3]
    assert errors["items"][0]["values"]["姓名"] == "坏"
    # Started for real: it cannot start again nor change.
    assert _post(client, f"{url}/start", {"dry_run": False}).status_code == 409
    assert _patch(client, url, {"options": {"on_duplicate": "skip"}}).status_code == 409


def test_api_bad_input(owner):
    client = token_client(owner)
    bad = client.post(
        "/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile("a.exe", b"x")}
    )
    assert bad.status_code == 422 and "file" in bad.json()["error"]["fields"]
    bad = client.post(
        "/api/v1/imports", {"kind": "nope", "file": SimpleUploadedFile("a.csv", DATA)}
    )
    assert bad.status_code == 422
    job = client.post(
        "/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile("a.csv", DATA)}
    ).json()
    bad = _patch(client, f"/api/v1/imports/{job['id']}", {"mapping": {"手机": "shoe size"}})
    assert bad.status_code == 422
    bad = _patch(client, f"/api/v1/imports/{job['id']}", {"surprise": 1})
    assert bad.status_code == 422


def test_others_jobs_are_404_and_unchanged(owner, teammate, outsider, admin_user):
    job = upload(owner, "c.csv", DATA)
    for user in (teammate, outsider):
        client = token_client(user)
        url = f"/api/v1/imports/{job.pk}"
        assert client.get(url).status_code == 404
        assert client.get(f"{url}/errors").status_code == 404
        assert _patch(client, url, {"options": {"on_duplicate": "create"}}).status_code == 404
        assert _post(client, f"{url}/start", {"dry_run": False}).status_code == 404
        assert _post(client, f"{url}/resume", {}).status_code == 404
        pages = signed_in(user)
        for path in ("", "progress/", "report/"):
            assert pages.get(f"/imports/{job.pk}/{path}").status_code == 404
        assert pages.post(f"/imports/{job.pk}/start/", {"dry_run": "0"}).status_code == 404
    job.refresh_from_db()
    assert (job.status, job.options) == ("pending", {"on_duplicate": "skip"})
    # The outsider may not import at all.
    response = token_client(outsider).post(
        "/api/v1/imports", {"kind": "customers", "file": SimpleUploadedFile("a.csv", DATA)}
    )
    assert response.status_code == 404
    assert signed_in(outsider).get("/imports/").status_code == 404
    assert ImportJob.objects.count() == 1
    # An administrator sees every job.
    assert token_client(admin_user).get(f"/api/v1/imports/{job.pk}").status_code == 200
    assert signed_in(owner).get(f"/imports/{job.pk}/").status_code == 200


def test_pages_upload_mapping_dry_run_import(owner, django_capture_on_commit_callbacks):
    client = signed_in(owner)
    page = client.get("/imports/")
    assert page.status_code == 200 and b"upload-form" in page.content
    response = client.post(
        "/imports/new/", {"kind": "customers", "file": SimpleUploadedFile("客户.csv", DATA)}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response.url)
    content = page.content.decode()
    assert "mapping-form" in content and 'id="preview"' in content and "13812345678" in content
    form = {"col_0": "name", "col_1": "mobile", "col_2": "city", "opt_on_duplicate": "skip"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/start/", {**form, "dry_run": "1"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.dry_run, Customer.objects.count()) == ("done", True, 0)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "rejected-rows" in page and "mapping-form" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/start/", {**form, "dry_run": "0"})
    job.refresh_from_db()
    assert (job.status, job.dry_run, job.created_count) == ("done", False, 1)
    progress = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true" and b'value="100"' in progress.content
    report = client.get(f"/imports/{job.pk}/report/")
    assert report.status_code == 200 and b"".join(report.streaming_content).startswith(
        b"\xef\xbb\xbf"
    )
    assert Customer.objects.get().city == "上海"
    assert ImportRowError.objects.filter(job=job).count() == 1


def test_page_upload_errors_are_shown(owner):
    client = signed_in(owner)
    response = client.post(
        "/imports/new/", {"kind": "customers", "file": SimpleUploadedFile("x.xlsx", b"not excel")}
    )
    assert response.status_code == 422
    assert 'data-error-for="file"' in response.content.decode()
    assert ImportJob.objects.count() == 0

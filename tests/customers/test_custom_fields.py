"""Custom fields of the customer file: definitions (service, API, admin pages), the check
of their values, and their values through customer create/update, pages and API."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from kehu.core.access import AccessDenied
from kehu.core.models import AuditEvent, RuleViolation
from kehu.customers import custom_fields, services
from kehu.customers.custom_fields import clean_custom_values
from kehu.customers.models import Customer, CustomerChange, CustomField
from tests import factories
from tests.api.test_api import error_of
from tests.conftest import signed_in, token_client

pytestmark = pytest.mark.django_db
JSON = "application/json"
FIELDS_API = "/api/v1/custom-fields"
ADMIN_LIST = "/customers/custom-fields/"
ADMIN_NEW = "/customers/custom-fields/new/"


def define(actor, key="grade", kind="choice", **extra):
    extra.setdefault("label_en", key.title())
    extra.setdefault("label_zh_hans", f"{key}（简）")
    extra.setdefault("label_zh_hant", f"{key}（繁）")
    if kind == "choice":
        extra.setdefault("choices", ["A", "B", "C"])
    return custom_fields.custom_field_create(actor=actor, key=key, kind=kind, **extra)


@pytest.fixture
def fields(admin_user):
    return {
        "grade": define(admin_user, "grade", "choice", position=2),
        "budget": define(admin_user, "budget", "number", position=1),
        "since": define(admin_user, "since", "date", position=3),
        "remark": define(admin_user, "remark", "text", position=4),
    }


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict


# --- The check of values --------------------------------------------------------------------


def test_values_are_normalised_by_kind(fields):
    clean = clean_custom_values(
        {
            "grade": "B",
            "budget": "12.50",
            "since": "2026-01-31",
            "remark": "  VIP\x00客户\x07 \n",
        },
        partial=False,
    )
    assert clean == {"grade": "B", "budget": "12.5", "since": "2026-01-31", "remark": "VIP客户"}
    assert clean_custom_values({"since": date(2025, 2, 3)}, partial=True) == {"since": "2025-02-03"}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (42, 42),
        (42.0, 42),
        ("0042", 42),
        ("-7", -7),
        (0.1, "0.1"),
        ("3.140000", "3.14"),
        ("1e3", None),  # exponents are refused: people type plain numbers
        (2**53 - 1, None),  # 16 digits: more than a field holds
        (10**15 - 1, 10**15 - 1),
        ("123456789012345.123456", "123456789012345.123456"),
    ],
)
def test_numbers_are_exact_and_json_safe(fields, raw, stored):
    if stored is None:
        with pytest.raises(ValidationError):
            clean_custom_values({"budget": raw}, partial=True)
        return
    assert clean_custom_values({"budget": raw}, partial=True) == {"budget": stored}


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("budget", True),
        ("budget", float("nan")),
        ("budget", float("inf")),
        ("budget", "12,5"),
        ("budget", "abc"),
        ("budget", 10**15),
        ("budget", "0.1234567"),
        ("budget", ["1"]),
        ("since", "2026-02-30"),
        ("since", "31.01.2026"),
        ("since", 20260131),
        ("grade", "D"),
        ("grade", "a"),
        ("grade", 1),
        ("remark", "长" * 1001),
        ("remark", {"x": 1}),
    ],
)
def test_bad_values_name_the_field(fields, key, raw):
    with pytest.raises(ValidationError) as info:
        clean_custom_values({key: raw}, partial=True)
    assert set(errors_of(info.value)) == {f"custom.{key}"}


def test_unknown_and_retired_keys_are_refused(fields, admin_user):
    with pytest.raises(ValidationError) as info:
        clean_custom_values({"nope": "x", "<script>": "y"}, partial=True)
    assert set(errors_of(info.value)) == {"custom.nope", "custom.<script>"}
    custom_fields.custom_field_deactivate(actor=admin_user, field=fields["remark"])
    with translation.override("en"), pytest.raises(ValidationError) as info:
        clean_custom_values({"remark": "x"}, partial=True)
    with translation.override("en"):
        assert "no longer in use" in errors_of(info.value)["custom.remark"][0]
    # Sent back unchanged, a retired field's value is kept, not refused.
    assert clean_custom_values({"remark": "x"}, partial=True, current={"remark": "x"}) == {
        "remark": "x"
    }


def test_required_on_create_not_on_partial_update(admin_user):
    define(admin_user, "region", "text", required=True)
    with pytest.raises(ValidationError) as info:
        clean_custom_values({}, partial=False)
    assert set(errors_of(info.value)) == {"custom.region"}
    with pytest.raises(ValidationError):
        clean_custom_values({"region": "  "}, partial=False)
    assert clean_custom_values({}, partial=True) == {}
    with pytest.raises(ValidationError):  # clearing a required field is refused
        clean_custom_values({"region": None}, partial=True)
    assert clean_custom_values({"region": "华东"}, partial=False) == {"region": "华东"}


def test_empty_values_clear_and_too_many_keys_are_refused(fields):
    assert clean_custom_values({"grade": "", "budget": None}, partial=True) == {
        "grade": None,
        "budget": None,
    }
    with pytest.raises(ValidationError) as info:
        clean_custom_values({f"k{i}": 1 for i in range(201)}, partial=True)
    assert set(errors_of(info.value)) == {"custom"}


def test_a_removed_choice_stays_until_changed(fields, admin_user):
    customer = factories.customer(admin_user, "张三")
    services.customer_update(
        actor=admin_user, customer=customer, expected_version=1, custom={"grade": "C"}
    )
    custom_fields.custom_field_update(actor=admin_user, field=fields["grade"], choices=["A", "B"])
    customer.refresh_from_db()
    assert customer.custom == {"grade": "C"}
    # The whole set sent back (as a form or API client does) keeps it.
    services.customer_update(
        actor=admin_user,
        customer=customer,
        expected_version=customer.version,
        custom={"grade": "C", "budget": 5},
    )
    customer.refresh_from_db()
    assert customer.custom == {"grade": "C", "budget": 5}
    with pytest.raises(ValidationError):
        clean_custom_values({"grade": "C"}, partial=True, current={"grade": "A"})


# --- Definitions ----------------------------------------------------------------------------


def test_define_update_and_retire_are_audited(admin_user):
    field = define(admin_user, "grade", "choice", choices=["A", " B ", "A", "\x07C"])
    assert field.choices == ["A", "B", "C"]
    event = AuditEvent.objects.get(action="custom_field.create")
    assert event.object_type == "customers.customfield" and event.object_label == "grade"
    assert event.changes["choices"] == [None, ["A", "B", "C"]]

    custom_fields.custom_field_update(actor=admin_user, field=field, label_en="Grade", position=5)
    event = AuditEvent.objects.get(action="custom_field.update")
    assert event.changes["position"] == [0, 5]
    # Nothing changed: no event.
    custom_fields.custom_field_update(actor=admin_user, field=field, position=5)
    assert AuditEvent.objects.filter(action="custom_field.update").count() == 1

    custom_fields.custom_field_deactivate(actor=admin_user, field=field)
    field.refresh_from_db()
    assert not field.is_active
    assert AuditEvent.objects.get(action="custom_field.deactivate").changes["is_active"] == [
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"key": "Grade"}, "key"),
        ({"key": "1st"}, "key"),
        ({"key": "a" * 44}, "key"),
        ({"key": "a-b"}, "key"),
        ({"kind": "colour"}, "kind"),
        ({"kind": "choice", "choices": []}, "choices"),
        ({"kind": "choice", "choices": [""]}, "choices"),
        ({"kind": "choice", "choices": ["x" * 101]}, "choices"),
        ({"kind": "text", "choices": ["A"]}, "choices"),
        ({"label_en": "", "label_zh_hans": "", "label_zh_hant": " \x00 "}, "label_en"),
        ({"label_en": "x" * 101}, "label_en"),
        ({"position": -1}, "position"),
        ({"position": 40000}, "position"),
        ({"required": "yes"}, "required"),
    ],
)
def test_bad_definitions_name_the_field(admin_user, kwargs, bad):
    data = {"key": "grade", "kind": "text", "label_en": "Grade", **kwargs}
    with pytest.raises(ValidationError) as info:
        custom_fields.custom_field_create(actor=admin_user, **data)
    assert bad in info.value.message_dict
    assert not CustomField.objects.exists()


def test_a_key_is_unique_and_key_and_kind_are_fixed(admin_user):
    field = define(admin_user, "grade", "text")
    with pytest.raises(RuleViolation) as info:
        define(admin_user, "grade", "number")
    assert "key" in info.value.message_dict
    for change in ({"key": "other"}, {"kind": "number"}):
        with pytest.raises(ValidationError):
            custom_fields.custom_field_update(actor=admin_user, field=field, **change)
    with pytest.raises(ValidationError):
        custom_fields.custom_field_update(
            actor=admin_user, field=field, label_en="", label_zh_hans="", label_zh_hant=""
        )


def test_only_administrators_define_fields(owner, auditor, admin_user):
    for actor in (owner, auditor):
        with pytest.raises(AccessDenied):
            define(actor, "grade")
    field = define(admin_user, "grade")
    with pytest.raises(AccessDenied):
        custom_fields.custom_field_update(actor=owner, field=field, label_en="x")
    assert CustomField.objects.get().label_en == "Grade"


def test_label_in_the_readers_language(admin_user):
    field = define(
        admin_user, "grade", label_en="Grade", label_zh_hans="等级", label_zh_hant="等級"
    )
    for language, label in (("en", "Grade"), ("zh-hans", "等级"), ("zh-hant", "等級")):
        with translation.override(language):
            assert field.label == label


# --- Values through the customer services ---------------------------------------------------


def test_create_and_update_keep_custom_values_field_by_field(fields, owner):
    customer = services.customer_create(
        actor=owner, name="张三", custom={"grade": "A", "budget": "1000", "since": "2020-01-01"}
    )
    customer.refresh_from_db()
    assert customer.custom == {"grade": "A", "budget": 1000, "since": "2020-01-01"}
    history = {c.field: (c.old_value, c.new_value) for c in customer.changes.all()}
    assert history["custom.grade"] == ("", "A") and history["custom.budget"] == ("", "1000")
    created = AuditEvent.objects.get(action="customer.create", object_id=str(customer.pk))
    assert created.changes["custom.grade"] == [None, "A"]

    services.customer_update(
        actor=owner,
        customer=customer,
        expected_version=1,
        custom={"grade": "B", "since": None, "remark": "<b>好</b>"},
    )
    customer.refresh_from_db()
    assert customer.custom == {"grade": "B", "budget": 1000, "remark": "<b>好</b>"}
    assert customer.version == 2
    rows = CustomerChange.objects.filter(customer=customer)
    assert rows.filter(field="custom.since", old_value="2020-01-01", new_value="").exists()
    assert rows.filter(field="custom.grade", old_value="A", new_value="B").exists()
    event = AuditEvent.objects.get(action="customer.update", object_id=str(customer.pk))
    assert set(event.changes) == {"custom.grade", "custom.since", "custom.remark"}

    # The same values again: no change, no new version.
    services.customer_update(
        actor=owner, customer=customer, expected_version=2, custom={"grade": "B"}
    )
    customer.refresh_from_db()
    assert customer.version == 2


def test_custom_errors_come_with_the_other_field_errors(fields, owner):
    with pytest.raises(ValidationError) as info:
        services.customer_create(actor=owner, name="", custom={"grade": "Z"})
    assert {"name", "custom.grade"} <= set(info.value.message_dict)
    assert not Customer.objects.exists()


def test_required_field_blocks_create_without_it(admin_user, owner):
    define(admin_user, "region", "text", required=True)
    with pytest.raises(ValidationError) as info:
        services.customer_create(actor=owner, name="张三")
    assert "custom.region" in info.value.message_dict
    customer = services.customer_create(actor=owner, name="张三", custom={"region": "华东"})
    # A later update without it is fine (only keys sent change).
    services.customer_update(actor=owner, customer=customer, expected_version=1, city="上海")


# --- API ---------------------------------------------------------------------------------


def test_definitions_api(admin_user, owner, outsider):
    admin = token_client(admin_user)
    response = admin.post(
        FIELDS_API,
        {
            "key": "grade",
            "kind": "choice",
            "label_en": "Grade",
            "label_zh_hans": "等级",
            "choices": ["A", "B"],
            "required": False,
            "position": 3,
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "grade" and body["choices"] == ["A", "B"] and body["is_active"]
    field_id = body["id"]

    again = admin.post(
        FIELDS_API, {"key": "grade", "kind": "text", "label_en": "x"}, content_type=JSON
    )
    assert again.status_code == 409 and "key" in error_of(again)["fields"]
    bad = admin.post(FIELDS_API, {"key": "Bad Key", "kind": "text"}, content_type=JSON)
    assert bad.status_code == 422 and "key" in error_of(bad)["fields"]
    no_choices = admin.post(
        FIELDS_API, {"key": "size2", "kind": "choice", "label_en": "x"}, content_type=JSON
    )
    assert no_choices.status_code == 422 and "choices" in error_of(no_choices)["fields"]

    patched = admin.patch(
        f"{FIELDS_API}/{field_id}",
        {"choices": ["A", "B", "C"], "is_active": False},
        content_type=JSON,
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["choices"] == ["A", "B", "C"] and not patched.json()["is_active"]
    fixed = admin.patch(f"{FIELDS_API}/{field_id}", {"kind": "text"}, content_type=JSON)
    assert fixed.status_code == 422
    assert admin.patch(f"{FIELDS_API}/999999", {}, content_type=JSON).status_code == 404

    # Everyone who sees customers reads the definitions; only administrators write them.
    for user in (owner, outsider):
        client = token_client(user)
        listed = client.get(FIELDS_API)
        assert listed.status_code == 200 and [f["key"] for f in listed.json()] == ["grade"]
        assert (
            client.post(
                FIELDS_API, {"key": "x", "kind": "text", "label_en": "x"}, content_type=JSON
            ).status_code
            == 404
        )
        assert (
            client.patch(
                f"{FIELDS_API}/{field_id}", {"label_en": "hacked"}, content_type=JSON
            ).status_code
            == 404
        )
    assert Client().get(FIELDS_API).status_code == 401
    assert CustomField.objects.get().label_en == "Grade"


def test_customer_api_carries_custom_values(fields, owner):
    client = token_client(owner)
    response = client.post(
        "/api/v1/customers",
        {"name": "张三", "custom": {"grade": "A", "budget": 12.5, "since": "2024-02-29"}},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["custom"] == {"grade": "A", "budget": "12.5", "since": "2024-02-29"}
    cid = body["id"]

    patched = client.patch(
        f"/api/v1/customers/{cid}",
        {"version": 1, "custom": {"budget": 3, "grade": None}},
        content_type=JSON,
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["custom"] == {"budget": 3, "since": "2024-02-29"}
    assert client.get(f"/api/v1/customers/{cid}").json()["custom"]["budget"] == 3
    history = client.get(f"/api/v1/customers/{cid}/history").json()
    assert {"custom.budget", "custom.grade"} <= {h["field"] for h in history}

    bad = client.patch(
        f"/api/v1/customers/{cid}",
        {"version": 2, "custom": {"grade": "Z", "unknown": 1}},
        content_type=JSON,
    )
    assert bad.status_code == 422
    assert set(error_of(bad)["fields"]) == {"custom.grade", "custom.unknown"}
    for payload in ({"custom": {"grade": True}}, {"custom": {"Bad-Key": 1}}, {"custom": "x"}):
        response = client.patch(
            f"/api/v1/customers/{cid}", {"version": 2, **payload}, content_type=JSON
        )
        assert response.status_code == 422, payload
    assert Customer.objects.get(pk=cid).version == 2


# --- Pages ------------------------------------------------------------------------------


def test_admin_defines_a_field_through_the_pages(admin_user, owner):
    client = signed_in(admin_user)
    home = client.get("/").content.decode()
    assert f'href="{ADMIN_LIST}"' in home
    assert client.get(ADMIN_LIST).status_code == 200
    assert client.get(ADMIN_NEW).status_code == 200
    response = client.post(
        ADMIN_NEW,
        {
            "key": "grade",
            "kind": "choice",
            "label_en": "Grade",
            "label_zh_hans": "等级",
            "label_zh_hant": "等級",
            "choices": "A\r\nB\r\n\r\nC",
            "position": "1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    field = CustomField.objects.get()
    assert (field.choices, field.required) == (["A", "B", "C"], False)
    listing = client.get(ADMIN_LIST).content.decode()
    assert 'data-custom-field="grade"' in listing

    edit = f"/customers/custom-fields/{field.pk}/"
    page = client.get(edit).content.decode()
    assert "disabled" in page  # key and kind are fixed
    response = client.post(
        edit,
        {
            "key": "changed",
            "kind": "text",
            "label_en": "Grade",
            "label_zh_hans": "等级",
            "label_zh_hant": "等級",
            "choices": "A\nB",
            "position": "2",
            "required": "on",
        },
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.kind, field.choices, field.required, field.is_active) == (
        "grade",
        "choice",
        ["A", "B"],
        True,
        False,  # the "in use" box was not ticked
    )
    bad = client.post(ADMIN_NEW, {"key": "grade", "kind": "text", "label_en": "x", "position": 0})
    assert bad.status_code == 400 and 'data-error-for="key"' in bad.content.decode()
    assert client.get("/customers/custom-fields/999999/").status_code == 404

    # Not for salespeople.
    other = signed_in(owner)
    assert f'href="{ADMIN_LIST}"' not in other.get("/").content.decode()
    for url in (ADMIN_LIST, ADMIN_NEW, edit):
        assert other.get(url).status_code == 404
    assert other.post(edit, {"label_en": "x"}).status_code == 404


def _form(**extra) -> dict:
    from tests.customers.test_pages import form_data

    return form_data(**extra)


def test_customer_form_has_the_fields_in_order_and_language(fields, owner):
    client = signed_in(owner)
    with translation.override("en"):
        page = client.get("/customers/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    names = ["custom_budget", "custom_grade", "custom_since", "custom_remark"]
    positions = [page.index(f'name="{name}"') for name in names]
    assert positions == sorted(positions)
    zh = signed_in(owner)
    zh.cookies["kehu_language"] = "zh-hans"
    assert "grade（简）" in zh.get("/customers/new/").content.decode()
    custom_fields.custom_field_deactivate(
        actor=factories.user("boss", role_code="administrator"), field=fields["remark"]
    )
    assert 'name="custom_remark"' not in client.get("/customers/new/").content.decode()


def test_customer_form_saves_and_shows_custom_values(fields, owner):
    client = signed_in(owner)
    response = client.post(
        "/customers/new/",
        _form(
            name="张三",
            custom_grade="B",
            custom_budget="88.80",
            custom_since="2025-12-01",
            custom_remark="<script>alert(1)</script>",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="张三")
    assert customer.custom == {
        "grade": "B",
        "budget": "88.8",
        "since": "2025-12-01",
        "remark": "<script>alert(1)</script>",
    }
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-custom="grade">B<' in page and 'data-custom="budget">88.8<' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    edit = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'value="88.8"' in edit and 'value="2025-12-01"' in edit
    bad = client.post(
        f"/customers/{customer.pk}/edit/",
        {
            **_form(name="张三", custom_grade="B", custom_budget="lots", custom_since="2025-12-01"),
            "version": customer.version,
        },
    )
    assert bad.status_code == 400
    assert 'data-error-for="custom_budget"' in bad.content.decode()
    customer.refresh_from_db()
    assert customer.custom["budget"] == "88.8"

    cleared = client.post(
        f"/customers/{customer.pk}/edit/",
        {**_form(name="张三", custom_grade="", custom_budget="5"), "version": customer.version},
    )
    assert cleared.status_code == 302
    customer.refresh_from_db()
    assert customer.custom == {"budget": 5}
    history = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-field="custom.grade"' in history and "grade（简）" in history


def test_hostile_custom_values(fields, owner):
    client = signed_in(owner)
    long_text = "长" * 10_000
    response = client.post(
        "/customers/new/", _form(name="张三", custom_remark=long_text, custom_grade="<b>")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-for="custom_grade"' in html
    assert not Customer.objects.exists()
    formula = "=cmd|' /c calc'!A0"
    response = client.post(
        "/customers/new/", _form(name="张三", custom_remark=formula + "\x07\x1b")
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.custom == {"remark": formula}
    # A NUL byte gets the form's clear error rather than being stored.
    response = client.post("/customers/new/", _form(name="李四", custom_remark="a\x00b"))
    assert (
        response.status_code == 400
        and 'data-error-for="custom_remark"' in response.content.decode()
    )


def test_a_stale_edit_of_custom_values_conflicts_and_loses_nothing(fields, owner):
    from kehu.core.models import ConflictError

    customer = services.customer_create(actor=owner, name="张三", custom={"grade": "A"})
    first = Customer.objects.get(pk=customer.pk)
    second = Customer.objects.get(pk=customer.pk)
    services.customer_update(actor=owner, customer=first, expected_version=1, custom={"grade": "B"})
    with pytest.raises(ConflictError):
        services.customer_update(
            actor=owner, customer=second, expected_version=1, custom={"budget": 1}
        )
    customer.refresh_from_db()
    assert customer.custom == {"grade": "B"} and customer.version == 2

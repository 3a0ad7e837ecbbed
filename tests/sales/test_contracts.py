"""Contract services: terms and validation, status moves, renewal, the end-of-contract
reminder across the owners' time zones, expiry and automatic renewal, attachments."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu.core.models import AuditEvent, ConflictError, RuleViolation
from kehu.sales import contracts, selectors, services
from kehu.sales.choices import ContractStatus, RenewalType
from kehu.sales.models import Contract, ContractAttachment
from kehu.sales.selectors import ContractFilters
from tests import factories

pytestmark = pytest.mark.django_db

TERMS = {
    "parties": "甲方：上海明珠贸易有限公司\n乙方：杭州云杉科技有限公司",
    "payment_terms": "签约后7日内支付30%；\n验收后支付70%。",
    "delivery_terms": "2026年2月底前交付。",
    "transaction_rules": "以书面订单为准。",
    "default_liability": "逾期交货每日按合同金额0.05%支付违约金。",
}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def make(actor, customer=None, **fields):
    values = {
        "customer": customer or factories.customer(actor, "上海明珠贸易有限公司"),
        "title": "年度供货合同",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "value": "120000.00",
        **TERMS,
    }
    values.update(fields)
    return services.contract_create(actor=actor, **values)


def reload(contract: Contract) -> Contract:
    return Contract.all_objects.get(pk=contract.pk)


def errors_of(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


# --- create, update, validation --------------------------------------------------------


def test_create_keeps_all_terms_and_numbers_the_contract(owner):
    contract = make(owner, signed_on="2025-12-20", renewal="auto", remind_days=45)
    contract = reload(contract)
    assert contract.number == f"HT-{contract.pk:08d}"
    assert contract.status == ContractStatus.DRAFT and contract.owner == owner
    assert contract.team_id == owner.team_id
    assert contract.value == Decimal("120000.00")
    assert (contract.starts_on, contract.ends_on, contract.signed_on) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        date(2025, 12, 20),
    )
    for name, text in TERMS.items():
        assert getattr(contract, name) == text  # line breaks kept
    assert contract.renewal == RenewalType.AUTO
    assert contract.remind_on == date(2026, 11, 16)  # 45 days before the end
    event = AuditEvent.objects.get(action="sales.contract.create")
    assert event.object_id == str(contract.pk) and event.changes["status"] == [None, "draft"]


def test_given_number_is_kept_and_must_be_unique(owner):
    customer = factories.customer(owner, "李娜")
    first = make(owner, customer, number="SH-2026-001", status=ContractStatus.ACTIVE)
    assert (first.number, first.status) == ("SH-2026-001", ContractStatus.ACTIVE)
    with pytest.raises(RuleViolation) as exc:
        make(owner, customer, number="SH-2026-001")
    assert "number" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        make(owner, customer, status=ContractStatus.EXPIRED)
    assert "status" in errors_of(exc)
    assert Contract.objects.count() == 1


def test_end_before_start_is_refused_naming_ends_on(owner):
    with pytest.raises(ValidationError) as exc:
        make(owner, starts_on="2026-06-01", ends_on="2026-05-31")
    assert list(errors_of(exc)) == ["ends_on"]
    with pytest.raises(ValidationError) as exc:
        make(owner, starts_on="2026-13-01", ends_on="")
    assert {"starts_on", "ends_on"} <= set(errors_of(exc))
    assert not Contract.objects.exists()
    one_day = make(owner, starts_on="2026-06-01", ends_on="2026-06-01")
    assert one_day.starts_on == one_day.ends_on


@pytest.mark.parametrize("value", ["abc", "1.234", "-5", "NaN", "Infinity", "", None, True, 1e30])
def test_bad_money_is_refused(owner, value):
    with pytest.raises(ValidationError) as exc:
        make(owner, value=value)
    assert "value" in errors_of(exc)
    assert not Contract.objects.exists()


def test_money_is_decimal_to_the_cent(owner):
    assert make(owner, value="0").value == Decimal("0.00")
    assert make(owner, value=Decimal("99999.9")).value == Decimal("99999.90")


def test_terms_up_to_the_limit(owner):
    long = "条" * 10_000
    contract = make(owner, payment_terms=long, default_liability=long)
    assert len(reload(contract).default_liability) == 10_000
    with pytest.raises(ValidationError) as exc:
        make(owner, delivery_terms=long + "x")
    assert list(errors_of(exc)) == ["delivery_terms"]
    with pytest.raises(ValidationError) as exc:
        make(owner, title="  ")
    assert "title" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        make(owner, remind_days=400)
    assert "remind_days" in errors_of(exc)
    assert Contract.objects.count() == 1


def test_update_is_version_checked_and_audited(owner):
    contract = make(owner)
    updated = services.contract_update(
        actor=owner,
        contract=contract,
        expected_version=contract.version,
        value="150000",
        default_liability="按日万分之五",
    )
    assert updated.version == contract.version + 1
    with pytest.raises(ConflictError):
        services.contract_update(
            actor=owner, contract=contract, expected_version=contract.version, value="1"
        )
    with pytest.raises(ValidationError) as exc:
        services.contract_update(
            actor=owner,
            contract=contract,
            expected_version=updated.version,
            ends_on="2025-12-31",
        )
    assert list(errors_of(exc)) == ["ends_on"]
    fresh = reload(contract)
    assert (fresh.value, fresh.ends_on) == (Decimal("150000.00"), date(2026, 12, 31))
    event = AuditEvent.objects.get(action="sales.contract.update")
    assert set(event.changes) == {"value", "default_liability"}


def test_others_may_not_write(owner, teammate, outsider):
    contract = make(owner)
    for intruder in (teammate, outsider):
        with pytest.raises(contracts.AccessDenied):
            services.contract_update(
                actor=intruder, contract=contract, expected_version=1, title="x"
            )
        with pytest.raises(contracts.AccessDenied):
            services.contract_set_status(
                actor=intruder, contract=contract, status="active", expected_version=1
            )
        with pytest.raises(contracts.AccessDenied):
            make(intruder, contract.customer)
    assert reload(contract).title == "年度供货合同" and Contract.objects.count() == 1


# --- status moves and renewal ---------------------------------------------------------


def set_status(actor, contract, status, reason=""):
    return services.contract_set_status(
        actor=actor,
        contract=contract,
        status=status,
        expected_version=reload(contract).version,
        reason=reason,
    )


def test_activate_and_terminate(owner):
    contract = make(owner)
    contract = set_status(owner, contract, ContractStatus.ACTIVE)
    assert contract.status == ContractStatus.ACTIVE
    with pytest.raises(RuleViolation) as exc:
        set_status(owner, contract, ContractStatus.ACTIVE)
    assert "status" in errors_of(exc)
    with pytest.raises(RuleViolation) as exc:
        set_status(owner, contract, ContractStatus.TERMINATED, reason="   ")
    assert "reason" in errors_of(exc)
    contract = set_status(owner, contract, ContractStatus.TERMINATED, reason="客户破产")
    assert reload(contract).status == ContractStatus.TERMINATED
    for status in (ContractStatus.ACTIVE, ContractStatus.TERMINATED, ContractStatus.EXPIRED):
        with pytest.raises(RuleViolation):
            set_status(owner, contract, status, reason="x")
    events = AuditEvent.objects.filter(action="sales.contract.status").order_by("id")
    assert [e.changes["status"] for e in events] == [["draft", "active"], ["active", "terminated"]]
    assert events[1].changes["reason"] == "客户破产"
    with pytest.raises(ConflictError):
        services.contract_set_status(
            actor=owner, contract=contract, status="terminated", expected_version=1, reason="x"
        )


def test_renew_makes_a_successor_with_the_same_length_and_terms(owner):
    contract = make(owner, status=ContractStatus.ACTIVE, starts_on="2026-03-01", remind_days=20)
    successor = services.contract_renew(
        actor=owner, contract=contract, expected_version=contract.version
    )
    old = reload(contract)
    assert old.status == ContractStatus.RENEWED
    assert successor.renewed_from_id == old.pk and successor.status == ContractStatus.ACTIVE
    assert successor.number != old.number and successor.number.startswith("HT-")
    assert successor.starts_on == date(2027, 1, 1)
    assert successor.ends_on - successor.starts_on == old.ends_on - old.starts_on
    for name in (*TERMS, "title", "value", "renewal", "remind_days"):
        assert getattr(successor, name) == getattr(old, name)
    assert successor.remind_on == successor.ends_on - timedelta(days=20)
    assert successor.customer_id == old.customer_id and successor.owner == owner
    with pytest.raises(RuleViolation):
        services.contract_renew(actor=owner, contract=old, expected_version=old.version)
    assert Contract.objects.filter(renewed_from=old).count() == 1
    event = AuditEvent.objects.get(action="sales.contract.renew")
    assert event.changes["renewal_contract"] == [None, successor.pk]


def test_only_running_or_expired_contracts_are_renewed(owner):
    draft = make(owner)
    with pytest.raises(RuleViolation):
        services.contract_renew(actor=owner, contract=draft, expected_version=draft.version)
    active = make(owner, draft.customer, status=ContractStatus.ACTIVE)
    with pytest.raises(ConflictError):
        services.contract_renew(actor=owner, contract=active, expected_version=99)
    assert Contract.objects.count() == 2


# --- the reminder across time zones -----------------------------------------------------


@pytest.fixture
def shanghai(team_a):
    return factories.user("sh", role_code="sales", team_obj=team_a, time_zone="Asia/Shanghai")


@pytest.fixture
def los_angeles(team_a):
    return factories.user("la", role_code="sales", team_obj=team_a, time_zone="America/Los_Angeles")


def active_contract(owner, **fields):
    fields.setdefault("remind_days", 30)
    return make(owner, status=ContractStatus.ACTIVE, **fields)


def reminder_events(contract):
    return AuditEvent.objects.filter(action="sales.contract.reminder", object_id=str(contract.pk))


def test_reminder_falls_due_at_midnight_in_shanghai(shanghai):
    contract = active_contract(shanghai)
    assert contract.remind_on == date(2026, 12, 1)
    # 2026-11-30T15:59Z is 23:59 on 30 November in Shanghai (UTC+8): not yet.
    assert services.contract_reminders(now=utc(2026, 11, 30, 15, 59))["reminded"] == 0
    assert reload(contract).status == ContractStatus.ACTIVE and not reminder_events(contract)
    # 16:00Z is midnight, 1 December, in Shanghai.
    result = services.contract_reminders(now=utc(2026, 11, 30, 16, 0))
    assert result == {"reminded": 1, "expired": 0, "renewed": 0}
    fresh = reload(contract)
    assert fresh.status == ContractStatus.EXPIRING
    assert fresh.reminded_at == utc(2026, 11, 30, 16, 0)
    assert list(selectors.contracts_ending(actor=shanghai)) == [fresh]
    # Running again raises nothing new.
    assert services.contract_reminders(now=utc(2026, 11, 30, 17, 0))["reminded"] == 0
    assert services.contract_reminders(now=utc(2026, 12, 5))["reminded"] == 0
    assert reminder_events(contract).count() == 1
    event = reminder_events(contract).get()
    assert event.actor is None and event.changes["owner"] == shanghai.pk


def test_reminder_falls_due_at_midnight_in_los_angeles(los_angeles):
    contract = active_contract(los_angeles)
    # 2026-12-01T07:59Z is 23:59 on 30 November in Los Angeles (UTC-8 in winter).
    assert services.contract_reminders(now=utc(2026, 12, 1, 7, 59))["reminded"] == 0
    assert reload(contract).reminded_at is None
    assert services.contract_reminders(now=utc(2026, 12, 1, 8, 0))["reminded"] == 1
    assert reload(contract).status == ContractStatus.EXPIRING
    assert services.contract_reminders(now=utc(2026, 12, 2, 8, 0))["reminded"] == 0
    assert reminder_events(contract).count() == 1


def test_the_same_instant_reminds_one_owner_and_not_the_other(shanghai, los_angeles):
    east = active_contract(shanghai)
    west = active_contract(los_angeles, customer=factories.customer(los_angeles, "王五"))
    services.contract_reminders(now=utc(2026, 11, 30, 20, 0))
    assert reload(east).status == ContractStatus.EXPIRING
    assert reload(west).status == ContractStatus.ACTIVE


def test_owner_without_a_time_zone_uses_the_company_zone(owner, settings):
    assert settings.TIME_ZONE == "Asia/Shanghai" and not owner.time_zone
    contract = active_contract(owner)
    assert services.contract_reminders(now=utc(2026, 11, 30, 15, 59))["reminded"] == 0
    assert services.contract_reminders(now=utc(2026, 11, 30, 16, 0))["reminded"] == 1
    assert reload(contract).status == ContractStatus.EXPIRING


def test_drafts_and_terminated_contracts_raise_no_reminder(shanghai):
    draft = make(shanghai, remind_days=30)
    ended = active_contract(shanghai, customer=draft.customer)
    set_status(shanghai, ended, ContractStatus.TERMINATED, reason="双方协商解除")
    assert services.contract_reminders(now=utc(2027, 2, 1)) == {
        "reminded": 0,
        "expired": 0,
        "renewed": 0,
    }
    assert reload(draft).status == ContractStatus.DRAFT
    assert reload(ended).status == ContractStatus.TERMINATED


def test_manual_contract_expires_after_its_end_in_the_owners_zone(shanghai):
    contract = active_contract(shanghai)
    services.contract_reminders(now=utc(2026, 12, 1))
    # 2026-12-31T15:59Z is still 31 December in Shanghai: the last day of the contract.
    assert services.contract_reminders(now=utc(2026, 12, 31, 15, 59))["expired"] == 0
    assert reload(contract).status == ContractStatus.EXPIRING
    expired_list = ContractFilters(expired_not_renewed=True)
    assert not selectors.contract_list(actor=shanghai, filters=expired_list).exists()
    result = services.contract_reminders(now=utc(2026, 12, 31, 16, 0))
    assert result == {"reminded": 0, "expired": 1, "renewed": 0}
    assert reload(contract).status == ContractStatus.EXPIRED
    listed = selectors.contract_list(actor=shanghai, filters=expired_list)
    assert [c.pk for c in listed] == [contract.pk]
    assert services.contract_reminders(now=utc(2027, 1, 2))["expired"] == 0
    assert AuditEvent.objects.filter(action="sales.contract.expire").count() == 1
    # An expired contract can still be renewed; it then leaves the list.
    fresh = reload(contract)
    services.contract_renew(actor=shanghai, contract=fresh, expected_version=fresh.version)
    assert not selectors.contract_list(actor=shanghai, filters=expired_list).exists()


def test_a_contract_never_reminded_still_expires(los_angeles):
    contract = active_contract(los_angeles, remind_days=0)
    assert contract.remind_on == contract.ends_on
    result = services.contract_reminders(now=utc(2027, 1, 1, 8, 0))
    assert result["expired"] == 1
    assert reload(contract).status == ContractStatus.EXPIRED


def test_auto_renewal_contract_is_renewed_instead(shanghai):
    contract = active_contract(shanghai, renewal=RenewalType.AUTO)
    assert services.contract_reminders(now=utc(2026, 12, 1))["reminded"] == 1
    result = services.contract_reminders(now=utc(2026, 12, 31, 16, 0))
    assert result == {"reminded": 0, "expired": 0, "renewed": 1}
    old = reload(contract)
    successor = Contract.objects.get(renewed_from=old)
    assert old.status == ContractStatus.RENEWED
    assert successor.status == ContractStatus.ACTIVE and successor.owner == shanghai
    assert (successor.starts_on, successor.ends_on) == (date(2027, 1, 1), date(2027, 12, 31))
    assert successor.default_liability == TERMS["default_liability"]
    assert successor.renewal == RenewalType.AUTO and successor.reminded_at is None
    expired = ContractFilters(expired_not_renewed=True)
    assert not selectors.contract_list(actor=shanghai, filters=expired).exists()
    assert services.contract_reminders(now=utc(2027, 1, 1, 1))["renewed"] == 0
    assert Contract.objects.count() == 2


def test_auto_renewal_of_a_departed_owner_expires_instead(shanghai):
    contract = active_contract(shanghai, renewal=RenewalType.AUTO)
    shanghai.is_active = False
    shanghai.save(update_fields=["is_active"])
    result = services.contract_reminders(now=utc(2027, 1, 5))
    assert result["expired"] == 1 and result["renewed"] == 0
    assert reload(contract).status == ContractStatus.EXPIRED
    assert not Contract.objects.filter(renewed_from=contract).exists()


def test_a_later_end_date_rearms_the_reminder(shanghai):
    contract = active_contract(shanghai)
    services.contract_reminders(now=utc(2026, 12, 1))
    reminded = reload(contract)
    assert reminded.status == ContractStatus.EXPIRING
    # Extended by agreement (far enough ahead that the new reminder day is still to come).
    extended = services.contract_update(
        actor=shanghai,
        contract=reminded,
        expected_version=reminded.version,
        ends_on="2029-12-31",
    )
    assert extended.remind_on == date(2029, 12, 1)
    assert (extended.status, extended.reminded_at) == (ContractStatus.ACTIVE, None)
    assert services.contract_reminders(now=utc(2026, 12, 2))["reminded"] == 0
    assert services.contract_reminders(now=utc(2027, 1, 5))["expired"] == 0
    assert reload(contract).status == ContractStatus.ACTIVE
    assert services.contract_reminders(now=utc(2029, 11, 30, 16, 0))["reminded"] == 1
    assert reload(contract).status == ContractStatus.EXPIRING
    assert reminder_events(contract).count() == 2


# --- attachments --------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def attach(actor, contract, data: bytes, name="合同扫描件.pdf", size: int | None = -1):
    return services.attachment_add(
        actor=actor,
        contract=contract,
        name=name,
        stream=io.BytesIO(data),
        size=len(data) if size == -1 else size,
    )


def stored_files(var_dir):
    folder = var_dir / "attachments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_pdf_is_kept_under_a_generated_name(owner, var_dir):
    import hashlib

    contract = make(owner)
    attachment = attach(owner, contract, PDF)
    assert attachment.original_name == "合同扫描件.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.uploaded_by == owner
    path = var_dir / "attachments" / attachment.stored_name
    assert path.read_bytes() == PDF
    assert "合同" not in attachment.stored_name and attachment.stored_name.endswith(".pdf")
    assert stored_files(var_dir) == [attachment.stored_name]
    image = attach(owner, contract, PNG, name="photo.PNG")
    assert image.content_type == "image/png" and image.stored_name.endswith(".png")
    event = AuditEvent.objects.filter(action="sales.contract.attach").order_by("id").first()
    assert event.changes["sha256"] == attachment.sha256


@pytest.mark.parametrize(
    "data,name",
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "contract.pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "scan.png"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "setup.exe"),
        (b"", "empty.pdf"),
    ],
)
def test_other_kinds_of_file_are_refused(owner, var_dir, data, name):
    contract = make(owner)
    with pytest.raises(RuleViolation) as exc:
        attach(owner, contract, data, name=name)
    assert "file" in errors_of(exc)
    assert not ContractAttachment.objects.exists()
    assert stored_files(var_dir) == []


def test_a_file_over_the_limit_is_refused_and_nothing_is_left(owner, var_dir, settings):
    settings.KEHU_ATTACHMENT_MAX_MB = 1
    contract = make(owner)
    big = PDF + b"0" * (1024 * 1024)
    with pytest.raises(RuleViolation) as exc:
        attach(owner, contract, big)  # the declared size is over the limit
    assert "1 MB" in errors_of(exc)["file"][0]
    with pytest.raises(RuleViolation):
        attach(owner, contract, big, size=None)  # found while reading the stream
    assert not ContractAttachment.objects.exists()
    assert stored_files(var_dir) == []
    exact = PDF + b"0" * (1024 * 1024 - len(PDF))
    assert attach(owner, contract, exact).size == 1024 * 1024


def test_a_hostile_name_is_only_a_label(owner, var_dir):
    contract = make(owner)
    attachment = attach(owner, contract, PDF, name="../../etc/passwd.pdf")
    assert attachment.original_name == "passwd.pdf"
    assert "/" not in attachment.stored_name and ".." not in attachment.stored_name
    assert stored_files(var_dir) == [attachment.stored_name]
    assert not (var_dir / "etc").exists()
    odd = attach(owner, contract, PDF, name="a\x00b\u202e.pdf")
    assert "\x00" not in odd.original_name and "\u202e" not in odd.original_name
    nameless = attach(owner, contract, PDF, name="")
    assert nameless.original_name == "file.pdf"


def test_attachments_need_the_right_to_change_the_contract(owner, teammate, var_dir):
    contract = make(owner)
    with pytest.raises(contracts.AccessDenied):
        attach(teammate, contract, PDF)
    assert stored_files(var_dir) == [] and not ContractAttachment.objects.exists()
    attachment = attach(owner, contract, PDF)
    with pytest.raises(contracts.AccessDenied):
        services.attachment_remove(actor=teammate, attachment=attachment)
    assert stored_files(var_dir) == [attachment.stored_name]
    services.attachment_remove(actor=owner, attachment=attachment)
    assert stored_files(var_dir) == [] and not ContractAttachment.objects.exists()
    assert AuditEvent.objects.filter(action="sales.contract.detach").count() == 1

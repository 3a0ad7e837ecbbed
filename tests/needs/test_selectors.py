"""Needs lists and the summary, checked against counts worked out by hand."""

from __future__ import annotations

import pytest

from kehu.core.services import record_soft_delete
from kehu.needs import selectors, services
from kehu.needs.selectors import NeedFilters
from tests import factories

pytestmark = pytest.mark.django_db

# (customer, title, domain, nature, factor, source, priority, status)
FIXTURE = [
    ("a", "交货要快", "production", "material", "delivery_speed", "interview", "high", "open"),
    ("a", "质量稳定", "production", "material", "quality", "complaint", "high", "in_progress"),
    ("a", "售后态度", "living", "spiritual", "courtesy", "complaint", "medium", "open"),
    ("b", "设备可靠", "production", "material", "reliability", "questionnaire", "low", "met"),
    ("b", "团建活动", "living", "spiritual", "", "evaluation_card", "medium", "open"),
    ("b", "家用净水", "living", "material", "quality", "interview", "medium", "declined"),
    ("c", "培训课程", "production", "spiritual", "", "interview", "low", "open"),
]


@pytest.fixture
def needs(owner, teammate):
    customers = {
        "a": factories.customer(owner, "上海明珠贸易有限公司", tags=["VIP"]),
        "b": factories.customer(owner, "李娜", mobile="13912345678"),
        "c": factories.customer(teammate, "王五"),  # the teammate's: not the owner's
    }
    made = []
    for key, title, domain, nature, factor, source, priority, status in FIXTURE:
        actor = teammate if key == "c" else owner
        made.append(
            services.need_create(
                actor=actor,
                customer=customers[key],
                title=title,
                domain=domain,
                nature=nature,
                factor=factor,
                source=source,
                priority=priority,
                status=status,
            )
        )
    return customers, made


def titles(actor, **filters) -> set[str]:
    rows = selectors.need_list(actor=actor, filters=NeedFilters(**filters))
    return set(rows.values_list("title", flat=True))


def counts(rows, key="value") -> dict[str, int]:
    return {row[key]: row["count"] for row in rows}


def test_scope_and_filters(needs, owner, teammate, outsider, admin_user):
    customers, _made = needs
    assert len(titles(owner)) == 6
    assert titles(teammate) == {"培训课程"}
    assert titles(outsider) == set()  # a member sees only their own customers
    assert len(titles(admin_user)) == 7
    assert titles(owner, domain="living") == {"售后态度", "团建活动", "家用净水"}
    assert titles(owner, domain="production", nature="material") == {
        "交货要快",
        "质量稳定",
        "设备可靠",
    }
    assert titles(owner, factor="quality") == {"质量稳定", "家用净水"}
    assert titles(owner, factor="none") == {"团建活动"}
    assert titles(owner, source="complaint", priority="high") == {"质量稳定"}
    assert titles(owner, status="open") == {"交货要快", "售后态度", "团建活动"}
    assert titles(owner, customer_id=customers["b"].pk) == {"设备可靠", "团建活动", "家用净水"}
    # Customer search: pinyin initials, phone fragment, tag.
    assert titles(owner, q="ln") == {"设备可靠", "团建活动", "家用净水"}
    assert titles(owner, q="912345") == {"设备可靠", "团建活动", "家用净水"}
    assert titles(owner, q="vip") == {"交货要快", "质量稳定", "售后态度"}
    assert titles(owner, q="王五") == set()  # not the owner's customer
    assert titles(admin_user, q="ww") == {"培训课程"}


def test_needs_of_a_customer(needs, owner, teammate):
    customers, made = needs
    rows = list(selectors.needs_of_customer(actor=owner, customer=customers["a"]))
    assert rows == [made[2], made[1], made[0]]  # newest first
    assert list(selectors.needs_of_customer(actor=teammate, customer=customers["a"])) == []


def test_summary_counts_by_hand(needs, owner, admin_user):
    summary = selectors.need_summary(actor=owner)
    assert summary["total"] == 6
    pairs = {(r["domain"], r["nature"]): r["count"] for r in summary["by_domain_nature"]}
    assert pairs == {
        ("production", "material"): 3,
        ("production", "spiritual"): 0,
        ("living", "material"): 1,
        ("living", "spiritual"): 2,
    }
    assert counts(summary["by_factor"]) == {
        "": 1,
        "quality": 2,
        "reliability": 1,
        "delivery_speed": 1,
        "courtesy": 1,
    }
    assert counts(summary["by_source"]) == {
        "interview": 2,
        "complaint": 2,
        "questionnaire": 1,
        "evaluation_card": 1,
        "other": 0,
    }
    assert counts(summary["by_status"]) == {"open": 3, "in_progress": 1, "met": 1, "declined": 1}
    assert all(row["label"] for row in summary["by_factor"])

    everyone = selectors.need_summary(actor=admin_user)
    assert everyone["total"] == 7
    pairs = {(r["domain"], r["nature"]): r["count"] for r in everyone["by_domain_nature"]}
    assert pairs[("production", "spiritual")] == 1

    # The same filters as the list.
    filtered = selectors.need_summary(actor=owner, filters=NeedFilters(status="open"))
    assert filtered["total"] == 3
    assert counts(filtered["by_source"])["complaint"] == 1


def test_summary_is_a_handful_of_queries(needs, owner, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        selectors.need_summary(actor=owner)


def test_deleted_needs_and_needs_of_deleted_customers_are_left_out(needs, owner, admin_user):
    customers, made = needs
    services.need_delete(actor=owner, need=made[0], expected_version=1)
    assert selectors.need_summary(actor=owner)["total"] == 5
    record_soft_delete(actor=admin_user, obj=customers["b"])
    assert titles(owner) == {"质量稳定", "售后态度"}
    assert selectors.need_summary(actor=owner)["total"] == 2
